"""Run queued background jobs in-process so tests behave the same with and without Redis."""

from __future__ import annotations

from flask import Flask


def run_queued_jobs(app: Flask) -> None:
    """Drain every Cadre queue with a burst SimpleWorker when Redis is configured.

    Without REDIS_URL enqueue() already ran each job inline, so there is nothing to do.
    """
    from app.platform import jobs

    if not app.config.get("REDIS_URL"):
        return
    from rq import SimpleWorker

    with app.app_context():
        conn = jobs.get_redis(app)
        queues = [jobs.queue_name(q) for q in jobs.QUEUES]
        SimpleWorker(queues, connection=conn).work(burst=True)
