"""Rate limits on the JSON API (flask-limiter), per credential, answering 429 with Retry-After.

Every /api request counts against API_RATE_LIMIT and every write (POST, PUT, PATCH, DELETE)
also against API_WRITE_RATE_LIMIT, each one budget per API token (else per signed-in person,
else per client address) across all endpoints. Counters live in Redis when REDIS_URL is set,
so every process shares them, else in this process's memory. HTML pages are not limited here
(sign-in has its own throttling). The reference pages (/api/docs, /api/openapi.json) are not
limited either.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse_many

from app.api.auth import WRITE_METHODS, rate_limit_key
from app.platform.web.errors import problem

EXTENSION = "cadre_limiter"
UNLIMITED = frozenset({"api.docs", "api.openapi_document"})


def _setting(name: str):
    def limit() -> str:
        return current_app.config[name]

    return limit


def _exempt_when(name: str):
    def exempt() -> bool:
        return not current_app.config.get(name) or request.endpoint in UNLIMITED

    return exempt


def _too_many(exc: RateLimitExceeded):
    limiter: Limiter = current_app.extensions[EXTENSION]
    breached = limiter.current_limit
    # reset_at is a whole second already rounded up, as flask-limiter's own header counts it.
    wait = int(breached.reset_at - time.time()) if breached is not None else 60
    resp = problem(
        429,
        "Too many requests",
        f"This credential is over its rate limit ({exc.description}); retry after the "
        "number of seconds in Retry-After.",
    )
    resp.headers["Retry-After"] = str(max(1, wait))
    return resp


def init_app(app: Flask, bp) -> Limiter:
    """Put the API blueprint `bp` under the configured limits (checked here, so a bad limit
    string stops the app from starting)."""
    for name in ("API_RATE_LIMIT", "API_WRITE_RATE_LIMIT"):
        if app.config.get(name):
            parse_many(app.config[name])
    limiter = Limiter(
        rate_limit_key,
        storage_uri=app.config.get("REDIS_URL") or "memory://",
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX", ""),
        strategy="fixed-window",
        # Counters unreachable (Redis down): serve unlimited and log, rather than fail.
        swallow_errors=True,
    )
    limiter.init_app(app)
    limiter.shared_limit(
        _setting("API_RATE_LIMIT"), scope="api", exempt_when=_exempt_when("API_RATE_LIMIT")
    )(bp)
    limiter.shared_limit(
        _setting("API_WRITE_RATE_LIMIT"),
        scope="api-write",
        methods=sorted(WRITE_METHODS),
        exempt_when=_exempt_when("API_WRITE_RATE_LIMIT"),
    )(bp)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.extensions[EXTENSION] = limiter
    return limiter
