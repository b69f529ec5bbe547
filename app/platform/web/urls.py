"""Links built without a request: jobs, commands and the daily sweep write them too."""

from __future__ import annotations

from flask import current_app


def path_for(endpoint: str, **values) -> str:
    """The URL path of `endpoint` (the routes stay the truth about where pages live)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def public_url(path: str) -> str:
    """PUBLIC_BASE_URL + `path` (an absolute URL passes through): a link for an email or PDF."""
    if path.startswith(("http://", "https://")):
        return path
    base = (current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
    return base + (path if path.startswith("/") else "/" + path)
