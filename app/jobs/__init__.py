"""Background work: enqueue() is the only way to start it.

With REDIS_URL set, jobs go to RQ queues served by `rq worker`s (worker.py); without it they run
in-process, synchronously, through the same call, so behaviour is the same on the embedded default.
"""

from __future__ import annotations

import importlib
import logging

from flask import Flask, current_app

log = logging.getLogger("cadre.jobs")

QUEUES = ("default", "grading", "notifications", "compliance")

_app: Flask | None = None


def _resolve(name: str):
    module, _, func = name.rpartition(".")
    return getattr(importlib.import_module(module), func)


def run_job(name: str, *args, **kwargs):
    """Run a job function inside an app context of its own (the worker's entry point)."""
    global _app
    from flask import has_app_context

    if has_app_context():
        # Inline run inside a request: audit rows must name the job, not the signed-in user.
        from flask import g

        outer = g.get("cadre_job")
        g.cadre_job = name
        try:
            return _resolve(name)(*args, **kwargs)
        finally:
            g.cadre_job = outer
    if _app is None:
        from app import create_app

        _app = create_app()
    with _app.app_context():
        from flask import g

        g.cadre_job = name
        return _resolve(name)(*args, **kwargs)


def get_redis(app: Flask | None = None):
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        return None
    conn = app.extensions.get("cadre_redis")
    if conn is None:
        from redis import Redis

        conn = Redis.from_url(url)
        app.extensions["cadre_redis"] = conn
    return conn


def queue_name(queue: str) -> str:
    return current_app.config.get("RQ_QUEUE_PREFIX", "") + queue


def enqueue(
    name: str, *args, queue: str = "default", job_id: str | None = None, retry: int = 3, **kwargs
):
    """Start job `name` (dotted path of a function in app.jobs) with plain, id-like arguments.

    Returns the RQ job when Redis is configured, else the function's return value.
    """
    if not name.startswith("app.jobs."):
        raise ValueError("jobs live in app.jobs")
    conn = get_redis()
    if conn is None:
        log.info("running job %s inline", name)
        return run_job(name, *args, **kwargs)
    from rq import Queue, Retry

    q = Queue(queue_name(queue), connection=conn)
    return q.enqueue(
        run_job,
        name,
        *args,
        job_id=job_id,
        retry=Retry(max=retry, interval=[5, 30, 120][:retry]),
        description=name,
        **kwargs,
    )
