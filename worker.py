"""RQ worker: `python worker.py` serves every Cadre queue, each job in its own app context."""

from __future__ import annotations

import sys

from rq import Worker

from app import create_app
from app.platform import jobs


def _warm_up() -> None:
    """Do once, before forking, the set-up every job would otherwise repeat in its work horse
    (create_app has imported every domain, so every job is registered)."""
    from sqlalchemy.orm import configure_mappers

    configure_mappers()


def main() -> int:
    app = create_app()
    jobs._app = app  # forked work horses reuse this app instead of building one per job
    _warm_up()
    with app.app_context():
        conn = jobs.get_redis(app)
        if conn is None:
            print("REDIS_URL is not set: jobs run in-process, no worker needed.", file=sys.stderr)
            return 1
        queues = [jobs.queue_name(q) for q in jobs.QUEUES]
    worker = Worker(queues, connection=conn)
    worker.work(with_scheduler=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
