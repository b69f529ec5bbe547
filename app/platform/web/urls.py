"""Links built without a request: jobs, commands and the daily sweep write them too."""

from __future__ import annotations

from flask import current_app, has_request_context, request


def path_for(endpoint: str, **values) -> str:
    """The URL path of `endpoint` (the routes stay the truth about where pages live)."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def public_base_url() -> str:
    """Where people reach Cadre: PUBLIC_BASE_URL when set, else the host of the request being
    served, else this machine on PORT (the port `make run` serves on), so a printed link works
    on the instance that printed it."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return f"http://127.0.0.1:{current_app.config.get('PORT') or 5000}"


def public_url(path: str) -> str:
    """The public base URL + `path` (an absolute URL passes through): a link for an email or PDF."""
    if path.startswith(("http://", "https://")):
        return path
    return public_base_url() + (path if path.startswith("/") else "/" + path)
