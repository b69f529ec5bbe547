"""People: users, the organisation (departments, teams, job roles), user import, sign-in and
sessions, API tokens, and the permission table every route is checked against."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the people domain: sign-in sessions, pages, CLI and jobs."""
    from app.people import auth_session, cli, jobs  # noqa: F401  (jobs: registers them)
    from app.people.web.admin import bp as admin_bp
    from app.people.web.auth import bp as auth_bp
    from app.people.web.tokens import bp as tokens_bp

    auth_session.init_app(app)
    for bp in (auth_bp, admin_bp, tokens_bp):
        app.register_blueprint(bp)
    cli.register(app)
    app.jinja_env.globals["can"] = _can


def _can(permission: str) -> bool:
    """`can('course.manage')` in templates: may the signed-in person do this?"""
    from flask_login import current_user

    from app.people.permissions import can

    return can(current_user, permission)
