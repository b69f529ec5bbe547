"""The clock: `python clock.py` enqueues scheduled jobs (RQ's cron scheduler) for the workers.

Run exactly one next to the workers (Procfile `clock:`); a second one would only enqueue the
same idempotent jobs twice. Without REDIS_URL there is nothing to enqueue to: the served app
runs the same jobs itself on the same schedule (app/platform/scheduler.py).
"""

from __future__ import annotations

import sys

from rq.cron import CronScheduler

from app import create_app, run_job
from app.platform import jobs


def build_scheduler(app, connection) -> CronScheduler:
    """A cron scheduler with Cadre's scheduled jobs registered on their queues."""
    scheduler = CronScheduler(connection=connection, name="cadre-clock")
    with app.app_context():
        for spec in jobs.scheduled():
            scheduler.register(
                run_job,
                jobs.queue_name(spec.queue),
                args=(spec.name,),
                cron=app.config[spec.schedule],
                job_timeout=spec.timeout,
                name=spec.label,
            )
    return scheduler


def main() -> int:
    app = create_app()
    with app.app_context():
        conn = jobs.get_redis(app)
    if conn is None:
        print(
            "REDIS_URL is not set: the app runs the scheduled jobs itself (EMBEDDED_SCHEDULER);"
            " or run `flask compliance-run` and `flask notifications-sweep` from cron.",
            file=sys.stderr,
        )
        return 1
    build_scheduler(app, conn).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
