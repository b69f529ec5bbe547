"""Request hardening: request ids, security headers, no-store on signed-in pages."""

from __future__ import annotations

import secrets

from flask import Flask, g, request
from flask_login import current_user

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: {media}; "
    "media-src 'self' {media}; frame-src 'self' {media}; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    media = ""
    if app.config.get("S3_ENDPOINT"):
        scheme = "https" if app.config.get("S3_SECURE") else "http"
        media = f"{scheme}://{app.config['S3_ENDPOINT'].split('://', 1)[-1].rstrip('/')}"
    csp = CSP.format(media=media).replace("  ", " ")
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
