"""Time the training calendar's month page on PostgreSQL.

Seeds `cadre_bench_calendar` (or DATABASE_URL): 2,000 people and, around the current month,
SESSIONS sessions (default 300: about 7 a day) on 40 courses with 1-3 instructors each and
registrations filling them (some full with a waitlist, some cancelled). Then serves the app
with gunicorn and runs wrk, signed in as the bench account, on the month view, the week view
and the list view, beside a hello-world floor.

Target (issue 6): figures for the calendar month page p95 (printed; no fixed target in the
issue, we hold it to the catalog's 150 ms page budget).

    .venv/bin/python bench/training_calendar.py          (or: make bench-calendar)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime

from _common import (
    OUT,
    ROOT,
    add_load_args,
    bench_env,
    ensure_bench_user,
    ensure_wrk,
    log,
    measure,
    prepare_database,
    print_wrk_table,
    run_script,
    stop_servers,
)

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/cadre_bench_calendar"

SEED = r"""
import json, random, secrets, sys
from datetime import UTC, datetime, timedelta
from sqlalchemy import func, select
from app import create_app
from app.extensions import db
from app.learning.models import Course
from app.classroom.models import SessionInstructor, SessionRegistration, TrainingSession
from app.people.models import User, UserRole

wanted = int(sys.argv[1])
app = create_app()
out = {}
with app.app_context():
    have = db.session.scalar(select(func.count()).select_from(TrainingSession))
    if have < wanted:
        rnd = random.Random(7)
        courses = list(db.session.scalars(select(Course.id).limit(40)))
        people = list(db.session.scalars(select(User.id).where(User.active.is_(True))))
        trainers = people[:30]
        for uid in trainers:
            if not db.session.get(UserRole, (uid, "trainer")):
                db.session.add(UserRole(user_id=uid, role="trainer"))
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        first = now.replace(day=1, hour=7) - timedelta(days=7)
        for n in range(have, wanted):
            start = first + timedelta(days=n % 45, hours=(n * 7) % 10)
            cap = rnd.choice([8, 10, 12, 16, 20])
            s = TrainingSession(
                uid=secrets.token_hex(8), course_id=rnd.choice(courses), starts_at=start,
                ends_at=start + timedelta(hours=rnd.choice([1, 2, 3])), timezone="Europe/Zurich",
                location=f"Room {n % 12 + 1}", capacity=cap,
                status="cancelled" if n % 17 == 0 else "scheduled",
            )
            db.session.add(s)
            db.session.flush()
            for uid in rnd.sample(trainers, rnd.randint(1, 3)):
                db.session.add(SessionInstructor(session_id=s.id, user_id=uid))
            size = cap + rnd.choice([0, 0, 3]) - rnd.randint(0, cap // 2)
            booked = rnd.sample(people, min(len(people), size))
            for i, uid in enumerate(booked):
                waiting = i >= cap
                db.session.add(SessionRegistration(
                    session_id=s.id, user_id=uid, status="waitlisted" if waiting else "registered",
                    waitlist_position=(i - cap + 1) if waiting else None,
                ))
        db.session.commit()
    out["sessions"] = db.session.scalar(select(func.count()).select_from(TrainingSession))
    out["registrations"] = db.session.scalar(select(func.count()).select_from(SessionRegistration))
print("RESULT " + json.dumps(out))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=300)
    add_load_args(parser)
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    if not database_url.startswith("postgresql"):
        log("this benchmark is for PostgreSQL; set DATABASE_URL to a postgresql:// URL")
        return 2
    wrk = ensure_wrk()
    env = bench_env(database_url)
    prepare_database(
        env, database_url, "--employees", "2000", "--courses", "60", "--enrollments", "0"
    )
    ensure_bench_user(env)
    log(f"seeding {args.sessions} sessions ...")
    seeded = run_script(env, SEED, str(args.sessions))
    paths = [
        ("calendar month", "/calendar?view=month"),
        ("calendar week", "/calendar?view=week"),
        ("calendar list (31 days)", "/calendar?view=list"),
    ]
    try:
        rows = measure(env, args, wrk, paths)
    finally:
        stop_servers()
    print(
        f"\n{seeded['sessions']} sessions, {seeded['registrations']} registrations; "
        f"wrk {args.threads} threads, {args.connections} connections, {args.duration} s per "
        f"target, gunicorn {args.workers} sync workers:"
    )
    print_wrk_table(rows)
    month = rows[1]
    print(f"\n{month['target']}: p95 {month['p95_ms']:.1f} ms   (page budget 150 ms)")
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = OUT / f"calendar-{stamp}.json"
    path.write_text(json.dumps({"seeded": seeded, "wrk": rows}, indent=2, default=str))
    log(f"raw figures in {path.relative_to(ROOT)}")
    return 0 if month["p95_ms"] < 150 else 1


if __name__ == "__main__":
    sys.exit(main())
