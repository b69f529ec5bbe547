"""Application factory."""

from __future__ import annotations

import logging

from flask import Flask

from app.platform.release import VERSION as __version__  # noqa: F401


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: config, extensions, blueprints, error handlers, CLI."""
    from app import cli
    from app.config import ROOT, load_config
    from app.extensions import csrf, db, login_manager, migrate
    from app.platform import dbpool, events, security, storage  # noqa: F401  (events: hooks)
    from app.platform.web import errors

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=None,
    )
    app.config.update(load_config())
    if overrides:
        app.config.update(overrides)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    db.init_app(app)
    dbpool.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    storage.init_app(app)
    security.init_app(app)

    from app import auth_session

    auth_session.init_app(app)

    from app.api import bp as api_bp
    from app.platform.web.files import bp as files_bp
    from app.web.admin import bp as admin_bp
    from app.web.audit import bp as audit_bp
    from app.web.auth import bp as auth_bp
    from app.web.certificates import bp as certificates_bp
    from app.web.compliance import bp as compliance_bp
    from app.web.courses import bp as courses_bp
    from app.web.documents import bp as documents_bp
    from app.web.enroll import bp as enroll_bp
    from app.web.inspection import bp as inspection_bp
    from app.web.main import bp as main_bp
    from app.web.notifications import bp as notifications_bp
    from app.web.player import bp as player_bp
    from app.web.programs import bp as programs_bp
    from app.web.records import bp as records_bp
    from app.web.requirements import bp as requirements_bp
    from app.web.sessions import bp as sessions_bp
    from app.web.tokens import bp as tokens_bp
    from app.web.waivers import bp as waivers_bp

    for bp in (main_bp, auth_bp, admin_bp, courses_bp, audit_bp, files_bp, tokens_bp):
        app.register_blueprint(bp)
    app.register_blueprint(certificates_bp)
    app.register_blueprint(enroll_bp)
    app.register_blueprint(player_bp)
    for bp in (requirements_bp, programs_bp, waivers_bp, compliance_bp, records_bp):
        app.register_blueprint(bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(inspection_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(sessions_bp)
    from app.web.calendar import bp as calendar_bp

    app.register_blueprint(calendar_bp)
    app.register_blueprint(api_bp, url_prefix="/api")
    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie-authenticated writes

    errors.init_app(app)
    cli.init_app(app)
    from app.jobs import (  # noqa: F401  (each registers its jobs)
        certificates,
        compliance,
        documents,
        grading,
        inspection,
        notifications,
        system,
    )
    from app.platform import jobs

    jobs.set_app_factory(create_app)
    _seal_audit_rows_at_the_end(app)
    app.jinja_env.globals["can"] = _can
    from app.platform.web import filters

    filters.init_app(app)
    return app


def _seal_audit_rows_at_the_end(app: Flask) -> None:
    """Chain the audit rows a request, job or command wrote, once it has committed them."""
    from app.services.audit_chain import seal_if_written

    @app.teardown_request
    def seal_after_request(exc):
        if exc is None:
            seal_if_written()

    @app.teardown_appcontext
    def seal_after_context(exc):
        if exc is None:
            seal_if_written()


def _can(permission: str) -> bool:
    from flask_login import current_user

    from app.permissions import can

    return can(current_user, permission)
