"""Time the daily notification sweep over 10,000 people on PostgreSQL + Redis.

Uses the compliance benchmark's database `cadre_bench_compliance` when it exists (10,000
people, 20 requirements per job role, the engine's assignments), else seeds its own
`cadre_bench_sweep` the same way (unless DATABASE_URL says otherwise). Redis is
`redis://127.0.0.1:6379/14` (or BENCH_REDIS_URL) with the queue prefix `bench-sweep:`, emptied
before and after, so nothing else's jobs are touched. Then, in one process:

1. deletes every notification and preference (the sweep's own rows), gives one person in ten
   the daily digest and one in twenty escalation emails off;
2. times the first sweep, which meets the whole backlog (every item due within 30 days,
   overdue or 7 days overdue gets its reminder, notice or escalation), from the status query to
   the last send job on the queue;
3. times a second sweep the same day (must create nothing) and the next day's sweep (the
   steady-state daily increment);
4. times delivery of a sample of the queued emails to an SMTP server on loopback (aiosmtpd),
   through the same code the send jobs run, and a sample of digests;
5. empties the queue and deletes the notifications again (--keep leaves them).

Target (issue 6): the daily sweep creates and enqueues everything in under 10 s.

    .venv/bin/python bench/sweep.py             (or: make bench-sweep)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.parse
from datetime import UTC, datetime

from _common import OUT, ROOT, bench_env, compliance_seed, log, prepare_database

COMPLIANCE_DB = "postgresql://postgres@127.0.0.1:5432/cadre_bench_compliance"
OWN_DB = "postgresql://postgres@127.0.0.1:5432/cadre_bench_sweep"
REDIS = "redis://127.0.0.1:6379/14"
PREFIX = "bench-sweep:"

SWEEP = r"""
import json, logging, os, sys, time
from datetime import timedelta
from sqlalchemy import delete, func, select, text
from app import create_app
from app.extensions import db
from app.platform.jobs import get_redis, queue_name
from app.notifications.models import Notification, NotificationPreference
from app.compliance.models import TrainingAssignment
from app.people.models import User
from app.platform import clock
from app.notifications.delivery import deliver_notifications, send_digests
from app.notifications.sweep import digest_recipients, run_sweep
from app.compliance.engine import run_requirement_engine
from rq import Queue

keep, sample, digests = sys.argv[1] == "keep", int(sys.argv[2]), int(sys.argv[3])
app = create_app({"RQ_QUEUE_PREFIX": os.environ["RQ_QUEUE_PREFIX"]})
logging.getLogger().setLevel(logging.WARNING)
out = {}
with app.app_context():
    queue = Queue(queue_name("notifications"), connection=get_redis())
    queue.empty()
    if db.session.scalar(select(TrainingAssignment.id).limit(1)) is None:
        run_requirement_engine(cause="bench")  # a freshly seeded database
    db.session.execute(delete(Notification))
    db.session.execute(delete(NotificationPreference))
    people = select(User.id).where(User.active.is_(True))
    db.session.execute(text(
        "INSERT INTO notification_preferences"
        " (user_id, email_off, daily_digest, unsubscribe_token, updated_at)"
        " SELECT id, CASE WHEN id % 20 = 1 THEN '[\"escalation\"]'::jsonb ELSE '[]'::jsonb END,"
        " id % 10 = 0, md5(id::text), now() FROM users"
        " WHERE active AND (id % 10 = 0 OR id % 20 = 1)"
    ))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE notifications"))
        conn.execute(text("VACUUM ANALYZE notification_preferences"))
    out["people"] = db.session.scalar(select(func.count()).select_from(people.subquery()))

    today = clock.today()
    for label, day in (("first", today), ("again", today), ("next_day", today + timedelta(days=1))):
        started = time.perf_counter()
        result = run_sweep(on=day)
        seconds = time.perf_counter() - started
        out[label] = {
            "seconds": seconds,
            "created": result.created,
            "due_reminders": result.due_reminders,
            "overdue": result.overdue,
            "escalations": result.escalations,
            "session_reminders": result.session_reminders,
            "emails_queued": result.emails_queued,
            "digests": result.digests,
            "jobs": result.jobs,
            "phases": result.seconds,
            "queue_length": queue.count,
        }
    states = db.session.execute(
        select(Notification.email_state, func.count()).group_by(Notification.email_state)
    ).all()
    out["email_states"] = {s: n for s, n in states}
    out["notifications"] = sum(out["email_states"].values())

    # Delivery: the send jobs' code against a real SMTP server on loopback, in a process of
    # its own (in this one it would fight the sender for the GIL at every SMTP turn).
    import multiprocessing
    import socket

    def serve(port, received, ready):
        import time as _time
        from aiosmtpd.controller import Controller

        class Sink:
            async def handle_DATA(self, server, session, envelope):
                with received.get_lock():
                    received.value += 1
                return "250 OK"

        Controller(Sink(), hostname="127.0.0.1", port=port).start()
        ready.set()
        while True:
            _time.sleep(3600)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    received, ready = multiprocessing.Value("i", 0), multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(port, received, ready), daemon=True)
    server.start()
    ready.wait(30)
    app.config.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=port, PUBLIC_BASE_URL="https://cadre.example.com"
    )
    ids = list(db.session.scalars(
        select(Notification.id).where(Notification.email_state == "pending")
        .order_by(Notification.id).limit(sample)
    ))
    started = time.perf_counter()
    delivery = deliver_notifications(ids)
    seconds = time.perf_counter() - started
    out["delivery"] = {"emails": delivery.sent, "seconds": seconds, "received": received.value}
    users = digest_recipients()[:digests]
    before = received.value
    started = time.perf_counter()
    sent = send_digests(users)
    seconds = time.perf_counter() - started
    items = db.session.scalar(
        select(func.count())
        .where(Notification.user_id.in_(users), Notification.email_state == "sent")
    )
    out["digests"] = {
        "people": sent.sent, "notifications": items, "seconds": seconds,
        "received": received.value - before,
    }
    server.terminate()

    queue.empty()
    if not keep:
        db.session.execute(delete(Notification))
        db.session.execute(delete(NotificationPreference))
        db.session.commit()
print("RESULT " + json.dumps(out, default=str))
"""


def default_database() -> str:
    """The compliance benchmark's database when it exists, else this benchmark's own."""
    import psycopg

    parts = urllib.parse.urlsplit(COMPLIANCE_DB)
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", ("cadre_bench_compliance",)
        ).fetchone()
    return COMPLIANCE_DB if found else OWN_DB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=10000)
    parser.add_argument("--requirements", type=int, default=20, help="per job role")
    parser.add_argument("--sample", type=int, default=2000, help="emails delivered over SMTP")
    parser.add_argument("--digests", type=int, default=100, help="digests delivered over SMTP")
    parser.add_argument("--keep", action="store_true", help="leave the notifications in place")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL") or default_database()
    if not database_url.startswith("postgresql"):
        log("this benchmark is for PostgreSQL; set DATABASE_URL to a postgresql:// URL")
        return 2
    redis_url = os.environ.get("BENCH_REDIS_URL", REDIS)
    env = bench_env(database_url, REDIS_URL=redis_url, RQ_QUEUE_PREFIX=PREFIX)
    log(f"database {urllib.parse.urlsplit(database_url).path.lstrip('/')}, redis {redis_url}")
    prepare_database(env, database_url, *compliance_seed(args.employees, args.requirements))
    log("sweeps and delivery, in-process ...")
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SWEEP,
            "keep" if args.keep else "clean",
            str(args.sample),
            str(args.digests),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    line = next(x for x in done.stdout.decode().splitlines() if x.startswith("RESULT "))
    figures = json.loads(line[len("RESULT ") :])
    report(figures)
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = OUT / f"sweep-{stamp}.json"
    path.write_text(json.dumps(figures, indent=2))
    log(f"raw figures in {path.relative_to(ROOT)}")
    first = figures["first"]
    ok = first["seconds"] < 10 and figures["again"]["created"] == 0
    return 0 if ok else 1


def report(f: dict) -> None:
    print()
    print(
        f"Daily sweep over {f['people']} active people ({f['notifications']} notifications made):"
    )
    for label, title in (
        ("first", "first run (the whole backlog)"),
        ("again", "same day again"),
        ("next_day", "next day"),
    ):
        r = f[label]
        phases = ", ".join(f"{k} {v:.2f}" for k, v in r["phases"].items())
        print(
            f"  {title:<30} {r['seconds']:6.2f} s  created {r['created']:>7} "
            f"({r['due_reminders']} due, {r['overdue']} overdue, {r['escalations']} escalations, "
            f"{r['session_reminders']} sessions); {r['emails_queued']} emails + "
            f"{r['digests']} digests in {r['jobs']} jobs (queue {r['queue_length']})"
        )
        print(f"  {'':<30} phases (s): {phases}")
    print("  target: the first run creates and enqueues everything in < 10 s")
    print(f"Email states after the sweeps: {f['email_states']}")
    d = f["delivery"]
    rate = d["emails"] / d["seconds"] if d["seconds"] else 0
    print(
        f"Delivery to SMTP on loopback: {d['emails']} emails in {d['seconds']:.2f} s "
        f"({rate:.0f}/s, one process, one connection per 500); server got {d['received']}"
    )
    g = f["digests"]
    print(
        f"Digests: {g['people']} people ({g['notifications']} notifications) in "
        f"{g['seconds']:.2f} s; server got {g['received']}"
    )
    print()


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    log(f"done in {time.perf_counter() - started:.0f} s")
    sys.exit(code)
