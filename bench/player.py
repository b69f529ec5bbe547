"""Load-test the course player page and the learner dashboard with 100k enrollments seeded.

Seeds 10,000 people, 500 courses and 100,000 enrollments (with progress and graded quiz attempts)
into PostgreSQL database `cadre_bench3` unless DATABASE_URL says otherwise, enrols the benchmark
learner in a few courses and works through part of one (text read, quiz passed), then serves the
app and a hello app with gunicorn (2 sync workers each) and runs wrk against the player's text
and quiz pages and /home. Also counts the SQL queries of one request of each, in-process.

    .venv/bin/python bench/player.py            (or: make bench-player)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime

from _common import (
    BENCH_EMAIL,
    BENCH_PASSWORD,
    OUT,
    ROOT,
    add_load_args,
    bench_env,
    ensure_bench_user,
    ensure_database,
    ensure_wrk,
    flask,
    log,
    measure,
    print_wrk_table,
    stop_servers,
)

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/cadre_bench3"
BENCH_COURSES = 8


def form_answers(result) -> dict:
    """The right answer to every question of an attempt, as the quiz form posts them."""
    out = {}
    for q in result.questions:
        answer, kind = q["answer"], q["kind"]
        if kind in ("single", "multiple"):
            shown = [str(q["order"].index(i)) for i in answer["correct"]]
            out[str(q["id"])] = shown[0] if kind == "single" else shown
        elif kind == "true_false":
            out[str(q["id"])] = "true" if answer["correct"] else "false"
        elif kind == "numeric":
            out[str(q["id"])] = str(answer["value"])
        else:
            out[str(q["id"])] = answer["accepted"][0]
    return out


def prepare_learner() -> tuple[int, int, int]:
    """Enrol the bench learner in scale courses; in the first, read the text and pass the quiz.

    Returns (enrollment id, quiz module id, current text module id). Runs in an app context.
    """
    from sqlalchemy import select

    from app.extensions import db
    from app.learning import enrollments, quizzes
    from app.learning.models import Course, Module
    from app.people.models import User

    user = db.session.scalar(select(User).where(User.email == BENCH_EMAIL))
    courses = db.session.scalars(
        select(Course.id)
        .where(Course.code.like("SC-%"), Course.status == "published")
        .order_by(Course.id)
        .limit(BENCH_COURSES)
    ).all()
    enrolled = [enrollments.enroll_user(user.id, cid, source="self")[0] for cid in courses]
    target = enrolled[0]
    modules = db.session.scalars(
        select(Module).where(Module.course_id == target.course_id).order_by(Module.position)
    ).all()
    first_text = next(m for m in modules if m.kind == "text")
    quiz = next(m for m in modules if m.kind == "quiz")
    current = next(m for m in modules if m.kind == "text" and m.position > quiz.position)
    enrollments.record_progress(target.id, first_text.id, status="completed", actor=user)
    state = quizzes.quiz_state(target.id, quiz)
    if not state.passed:
        attempt = quizzes.start_attempt(target.id, quiz.id, user)
        quizzes.submit_attempt(attempt.id, form_answers(attempt), user)  # graded inline
    for other in enrolled[1:3]:  # a couple more under way, for the dashboard
        first = db.session.scalar(
            select(Module)
            .where(Module.course_id == other.course_id, Module.kind == "text")
            .order_by(Module.position)
            .limit(1)
        )
        enrollments.record_progress(other.id, first.id, percent=40, actor=user)
    db.session.expire_all()
    assert enrollments.get_enrollment(target.id).status == "in_progress"
    return target.id, quiz.id, current.id


def count_queries(paths: list[str]) -> dict[str, int]:
    """SQL statements of one request to each path, signed in as the bench learner, in-process."""
    from sqlalchemy import event

    from app import create_app
    from app.extensions import db

    app = create_app()
    app.config.update(WTF_CSRF_ENABLED=False)
    counts: dict[str, int] = {}
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    resp = client.post("/login", data={"email": BENCH_EMAIL, "password": BENCH_PASSWORD})
    if resp.status_code != 302:
        raise SystemExit(f"in-process sign-in answered {resp.status_code}")
    for path in paths:
        client.get(path)  # warm caches (templates, metadata) once
        seen: list[str] = []

        def before(conn, cursor, statement, *args, _seen=seen):
            _seen.append(statement)

        event.listen(engine, "before_cursor_execute", before)
        try:
            resp = client.get(path)
        finally:
            event.remove(engine, "before_cursor_execute", before)
        if resp.status_code != 200:
            raise SystemExit(f"in-process GET {path} answered {resp.status_code}")
        counts[path] = len(seen)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10000)
    parser.add_argument("--courses", type=int, default=500)
    parser.add_argument("--enrollments", type=int, default=100000)
    add_load_args(parser)
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    env = bench_env(database_url)
    wrk = ensure_wrk()
    started = time.monotonic()
    ensure_database(database_url)
    log(f"database: {database_url}")
    flask(env, "db", "upgrade")
    flask(
        env,
        "seed-scale",
        "--employees",
        str(args.employees),
        "--courses",
        str(args.courses),
        "--enrollments",
        str(args.enrollments),
    )
    ensure_bench_user(env)
    os.environ.pop("REDIS_URL", None)  # jobs (quiz grading) run inline in this process
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    from app import create_app

    setup_app = create_app()
    with setup_app.app_context():
        enrollment_id, quiz_id, text_id = prepare_learner()
        from sqlalchemy import func, select

        from app.extensions import db
        from app.learning.models import Enrollment

        total = db.session.scalar(select(func.count()).select_from(Enrollment))
        db.session.remove()
        db.engine.dispose()
    log(f"setup took {time.monotonic() - started:.1f}s; {total} enrollments in the database")

    player_text = f"/learn/{enrollment_id}/{text_id}"
    player_quiz = f"/learn/{enrollment_id}/{quiz_id}"
    queries = count_queries([player_text, player_quiz, "/home"])

    rows = measure(
        env,
        args,
        wrk,
        [
            ("GET /learn/<e>/<text module>", player_text),
            ("GET /learn/<e>/<quiz module>", player_quiz),
            ("GET /home (dashboard)", "/home"),
        ],
    )

    print()
    print(
        f"wrk {args.threads} threads, {args.connections} connections, {args.duration}s per target; "
        f"gunicorn {args.workers} sync workers; {database_url.split(':', 1)[0]}; "
        f"{args.employees} employees, {args.courses} courses, {total} enrollments"
    )
    print_wrk_table(rows)
    print("\nSQL queries per request (in-process, signed in as the bench learner):")
    for path, n in queries.items():
        print(f"  GET {path}: {n}")
    for r in rows:
        if r["status"] != 200:
            print(f"Note: {r['target']} answered HTTP {r['status']}; its figures are for that.")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"player-{stamp}.json").write_text(
        json.dumps({"rows": rows, "queries": queries}, indent=2)
    )
    log(f"raw figures: bench/out/player-{stamp}.json; total {time.monotonic() - started:.0f}s")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    finally:
        stop_servers()
