"""Audit: the trail people read (the audit page, each record's history, CSV), its hash chain,
and electronic signatures. Rows are written through app.platform.audit by every domain."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the audit domain: the trail pages, the chain CLI, and the sealer that chains
    what a request, job or command wrote once it has committed."""
    from app.audit import chain, cli
    from app.audit.web import bp

    app.register_blueprint(bp)
    cli.register(app)

    @app.teardown_request
    def seal_after_request(exc):
        if exc is None:
            chain.seal_if_written()

    @app.teardown_appcontext
    def seal_after_context(exc):
        if exc is None:
            chain.seal_if_written()
