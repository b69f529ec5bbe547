"""GxP: controlled documents with read-and-understand retraining (the "sop" module kind), the
employee training record, inspection exports and the validation report."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the gxp domain: pages, API endpoints, CLI, jobs, the sop module kind and event
    handlers."""
    from app.gxp import (  # noqa: F401  (registrations)
        audit_labels,
        cli,
        documents,
        jobs,
        read_and_understand,
        retraining,
        versions,
    )
    from app.gxp.api import documents as documents_api  # noqa: F401  (endpoints)
    from app.gxp.api import inspection, records  # noqa: F401  (endpoints)
    from app.gxp.web.documents import bp as documents_bp
    from app.gxp.web.inspection import bp as inspection_bp
    from app.gxp.web.records import bp as records_bp

    for bp in (records_bp, documents_bp, inspection_bp):
        app.register_blueprint(bp)
    cli.register(app)
