"""Decide page vs fragment in one place: htmx gets the fragment, everyone else the full page."""

from __future__ import annotations

from flask import make_response, render_template, request


def is_htmx() -> bool:
    """True for an htmx partial request.

    Boosted navigation and htmx's history restore (the Back button after hx-push-url) both
    send HX-Request too, yet need the full page.
    """
    h = request.headers
    return (
        h.get("HX-Request") == "true"
        and not h.get("HX-Boosted")
        and h.get("HX-History-Restore-Request") != "true"
    )


def render(page: str, fragment: str, **context):
    """Render `fragment` for htmx and `page` (which includes the fragment) otherwise."""
    response = make_response(render_template(fragment if is_htmx() else page, **context))
    response.headers.add("Vary", "HX-Request")
    return response
