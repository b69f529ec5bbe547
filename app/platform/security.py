"""Request hardening: request ids, security headers, no-store on signed-in pages."""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request
from flask_login import current_user

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: {media}; "
    "media-src 'self' {media}; frame-src 'self' {media}; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def policy(frame_ancestors: str = "'none'") -> str:
    """The app's Content-Security-Policy, with `frame_ancestors` as its frame-ancestors source
    (a file our own pages show in an iframe needs 'self'; everything else 'none')."""
    media = ""
    if current_app.config.get("S3_ENDPOINT"):
        scheme = "https" if current_app.config.get("S3_SECURE") else "http"
        media = f"{scheme}://{current_app.config['S3_ENDPOINT'].split('://', 1)[-1].rstrip('/')}"
    csp = CSP.format(media=media).replace("  ", " ")
    return csp.replace("frame-ancestors 'none'", f"frame-ancestors {frame_ancestors}")


def one_charset(headers) -> None:
    """Leave exactly one charset on a text Content-Type: a mimetype given with its own charset
    gains werkzeug's second one, and a hand-set text type may have none."""
    value = headers.get("Content-Type")
    if not value:
        return
    mimetype, _, rest = value.partition(";")
    params = [p.strip() for p in rest.split(";") if p.strip()]
    charsets = [p for p in params if p.lower().startswith("charset=")]
    others = [p for p in params if not p.lower().startswith("charset=")]
    if mimetype.strip().startswith("text/") and not charsets:
        charsets = ["charset=utf-8"]
    if len(charsets) == 1 and len(params) == len(others) + 1:
        return
    headers["Content-Type"] = "; ".join([mimetype.strip(), *others, *charsets[:1]])


def init_app(app: Flask) -> None:
    with app.app_context():
        csp = policy()
    production = app.config.get("CADRE_ENV") == "production"

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        ok = incoming and len(incoming) <= 64 and incoming.replace("-", "").isalnum()
        g.request_id = incoming if ok else secrets.token_hex(8)

    @app.after_request
    def harden(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", csp)
        h["X-Content-Type-Options"] = "nosniff"
        one_charset(h)
        h["Referrer-Policy"] = "same-origin"
        h.setdefault("X-Frame-Options", "DENY")
        h["X-Request-ID"] = g.get("request_id", "")
        if production:
            h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if current_user.is_authenticated or request.authorization:
            h["Cache-Control"] = "no-store"
        if request.headers.get("HX-Request") is not None or "HX-Request" in h.get("Vary", ""):
            h.add("Vary", "HX-Request")
        return response
