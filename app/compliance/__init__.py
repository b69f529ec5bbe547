"""Compliance: the competency matrix (requirements), the requirement engine, statuses and their
stored copy, reports and the training matrix, programs, waivers, recertification, and the
compliance reminders of the daily sweep."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the compliance domain: pages, API endpoints, CLI, jobs and event handlers."""
    from app.compliance import (  # noqa: F401  (jobs and event handlers register on import)
        cli,
        engine,
        jobs,
        obligations,
        reminders,
        status_store,
    )
    from app.compliance.api import programs, reports, requirements  # noqa: F401  (endpoints)
    from app.compliance.web.compliance import bp as compliance_bp
    from app.compliance.web.home import bp as home_bp
    from app.compliance.web.programs import bp as programs_bp
    from app.compliance.web.requirements import bp as requirements_bp
    from app.compliance.web.waivers import bp as waivers_bp

    for bp in (home_bp, requirements_bp, programs_bp, waivers_bp, compliance_bp):
        app.register_blueprint(bp)
    cli.register(app)
