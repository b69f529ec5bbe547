"""Classroom: instructor-led sessions (scheduling, booking with a waitlist, attendance sign-off),
the training calendar with iCalendar downloads and private feeds, and session reminders."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the classroom domain: pages, API endpoints and event handlers."""
    from app.classroom import (  # noqa: F401  (endpoints; the sweep's reminders; audit names)
        api,
        audit_labels,
        reminders,
    )
    from app.classroom.web.calendar import bp as calendar_bp
    from app.classroom.web.sessions import bp as sessions_bp

    app.register_blueprint(sessions_bp)
    app.register_blueprint(calendar_bp)
