"""Decide page vs fragment in one place: htmx gets the fragment, everyone else the full page."""

from __future__ import annotations

from flask import make_response, render_template, request


def is_htmx() -> bool:
    """True for an htmx partial request (boosted navigation still wants the full page)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-Boosted")


def render(page: str, fragment: str, **context):
    """Render `fragment` for htmx and `page` (which includes the fragment) otherwise."""
    response = make_response(render_template(fragment if is_htmx() else page, **context))
    response.headers.add("Vary", "HX-Request")
    return response
