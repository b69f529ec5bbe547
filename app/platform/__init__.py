"""The platform layer: what every domain stands on and that knows no domain."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Bind the platform to the app: the input guard (first: before any rule is added), the
    pool, storage, the audit key ring, trusted proxies, security headers, error pages, template
    filters, local file downloads and the embedded scheduler."""
    from app.platform import (  # noqa: F401
        audit_keys,
        dbpool,
        events,
        proxies,
        scheduler,
        security,
        storage,
    )
    from app.platform.web import errors, filters, guard
    from app.platform.web.files import bp as files_bp

    guard.init_app(app)
    dbpool.init_app(app)
    storage.init_app(app)
    audit_keys.init_app(app)
    proxies.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    app.register_blueprint(files_bp)
    scheduler.init_app(app)
