"""The client behind a reverse proxy: with TRUSTED_PROXIES = N, the address, scheme, host, port
and path prefix come from the X-Forwarded-* headers the N proxies in front of Cadre set
(werkzeug's ProxyFix); with 0 (the default) those headers are ignored, as anyone can send them.

Login throttling, the audit trail's addresses and "served over HTTPS" (the session cookie's
__Host- prefix and Secure flag) all read the result.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


class TrustedProxies:
    """WSGI middleware reading TRUSTED_PROXIES per request, so a setting change takes effect."""

    def __init__(self, app: Flask):
        self.app = app
        self.wsgi_app = app.wsgi_app
        self._fixes: dict[int, ProxyFix] = {}

    def __call__(self, environ, start_response):
        hops = int(self.app.config.get("TRUSTED_PROXIES") or 0)
        if hops <= 0:
            return self.wsgi_app(environ, start_response)
        fix = self._fixes.get(hops)
        if fix is None:
            fix = ProxyFix(
                self.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
            )
            self._fixes[hops] = fix
        return fix(environ, start_response)


def init_app(app: Flask) -> None:
    app.wsgi_app = TrustedProxies(app)
