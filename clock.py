"""The clock: `python clock.py` enqueues scheduled jobs (RQ's cron scheduler) for the workers.

Run exactly one next to the workers (Procfile `clock:`); a second one would only enqueue the
same idempotent jobs twice. Without REDIS_URL there is nothing to schedule: run
`flask compliance-run` and `flask notifications-sweep` from the system's own cron instead.
"""

from __future__ import annotations

import sys

from rq.cron import CronScheduler

from app import create_app, run_job
from app.platform import jobs

NIGHTLY_JOB = "compliance.nightly"
SWEEP_JOB = "notifications.daily_sweep"


def build_scheduler(app, connection) -> CronScheduler:
    """A cron scheduler with Cadre's scheduled jobs registered on their queues."""
    scheduler = CronScheduler(connection=connection, name="cadre-clock")
    with app.app_context():
        scheduler.register(
            run_job,
            jobs.queue_name("compliance"),
            args=(NIGHTLY_JOB,),
            cron=app.config["NIGHTLY_CRON"],
            job_timeout=3600,
            name="compliance-nightly",
        )
        scheduler.register(
            run_job,
            jobs.queue_name("notifications"),
            args=(SWEEP_JOB,),
            cron=app.config["SWEEP_CRON"],
            job_timeout=1800,
            name="notifications-daily-sweep",
        )
    return scheduler


def main() -> int:
    app = create_app()
    with app.app_context():
        conn = jobs.get_redis(app)
    if conn is None:
        print(
            "REDIS_URL is not set: use `flask compliance-run` and `flask notifications-sweep`"
            " from cron.",
            file=sys.stderr,
        )
        return 1
    build_scheduler(app, conn).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
