"""Notifications: in-app and email messages to people, their preferences, daily digests, the
daily reminder sweep (each domain adds its reminders through notifications.reminders_due)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the notifications domain: its pages, CLI and jobs."""
    # jobs: registers them; notify: the unread count of the session load and the after-commit
    # start of the emails.
    # sign_in_notices: the people.sign_in_throttled handler.
    from app.notifications import cli, jobs, notify, sign_in_notices  # noqa: F401
    from app.notifications.web import bp

    app.register_blueprint(bp)
    cli.register(app)
