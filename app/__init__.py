"""Application factory: config, extensions, then each domain's init_app, lowest first."""

from __future__ import annotations

import logging

from flask import Flask

from app.platform.release import VERSION as __version__  # noqa: F401


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: config, extensions, the platform, then every domain bottom-up."""
    from app import (
        api,
        audit,
        classroom,
        compliance,
        demo,
        gxp,
        learning,
        notifications,
        people,
        platform,
    )
    from app.config import ROOT, load_config
    from app.extensions import csrf, db, login_manager, migrate
    from app.platform import jobs

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
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    jobs.set_app_factory(create_app)

    platform.init_app(app)
    people.init_app(app)
    audit.init_app(app)
    notifications.init_app(app)
    learning.init_app(app)
    compliance.init_app(app)
    classroom.init_app(app)
    gxp.init_app(app)
    demo.init_app(app)
    api.init_app(app)  # last: every domain has added its endpoints to the API blueprint
    return app


def run_job(name: str, *args, **kwargs):
    """RQ's entry point for every job (queues store "app.run_job"): a worker process that never
    built the app (a bare `rq worker`) builds it here, which registers every job, then runs
    job `name` in an app context of its own."""
    from app.platform import jobs

    if jobs.app_factory() is None:
        jobs.set_app_factory(create_app)
    return jobs.run_job(name, *args, **kwargs)
