"""Auto-grading throughput: quiz submissions graded per second by one RQ worker on Redis.

Seeds a course with a 10-question quiz (every question kind) and N learners into PostgreSQL
database `cadre_bench3` (or DATABASE_URL), submits N attempts through the real services with
REDIS_URL set (so each submit enqueues a grading job), then starts ONE worker subprocess and
times it until the grading queue is empty. Checks every attempt was graded exactly once.

    .venv/bin/python bench/grading.py            (or: make bench-grading)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

from _common import OUT, ROOT, bench_env, ensure_database, flask, log

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/cadre_bench3"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
PREFIX = "bench-grading:"
COURSE_CODE = "BENCH-GRADING"
DOMAIN = "grading.bench.example.com"

# The production worker (worker.py): a forking rq Worker around an app built once, in burst mode
# on the grading queue only.
PRELOADED_WORKER = """
from rq import Worker
from app import create_app
from app.platform import jobs
import worker
app = create_app()
jobs._app = app
worker._warm_up()
with app.app_context():
    conn = jobs.get_redis(app)
    queue = jobs.queue_name("grading")
Worker([queue], connection=conn).work(burst=True)
"""

QUESTIONS = [
    ("single", "First step after a spill?", ["Report it", "Ignore it", "Mop"], {"correct": [0]}),
    ("single", "Who signs a deviation?", ["QA", "Anyone", "Nobody"], {"correct": [0]}),
    ("multiple", "ALCOA letters?", ["Attributable", "Legible", "Fast"], {"correct": [0, 1]}),
    ("multiple", "PPE items?", ["Gloves", "Goggles", "Phone"], {"correct": [0, 1]}),
    ("true_false", "Records are made at the time.", ["True", "False"], {"correct": True}),
    ("true_false", "Pencil is fine in batch records.", ["True", "False"], {"correct": False}),
    ("numeric", "Cleanroom temperature (C)?", [], {"value": 21, "tolerance": 1}),
    ("numeric", "Days to report an incident?", [], {"value": 1, "tolerance": 0}),
    ("short_text", "Form for a change?", [], {"accepted": ["Change control"]}),
    ("short_text", "What does CAPA end with?", [], {"accepted": ["Preventive action"]}),
]


def seed(n: int) -> tuple[int, list[tuple[int, int]]]:
    """Create (once) the course, its quiz and n learners enrolled; return (quiz id, pairs)."""
    from sqlalchemy import delete, insert, select, update

    from app.extensions import db
    from app.learning.models import Course, Enrollment, Module, Progress, QuizQuestion, Result
    from app.people.auth import hash_password
    from app.people.models import User
    from app.platform import clock

    now = clock.now()
    course = db.session.scalar(select(Course).where(Course.code == COURSE_CODE))
    if course is None:
        course = Course(
            code=COURSE_CODE,
            title="Grading benchmark",
            summary="A quiz for the grading benchmark.",
            status="published",
            published_at=now,
            passing_score=70,
            self_enroll=True,
        )
        db.session.add(course)
        db.session.flush()
        quiz = Module(course_id=course.id, position=1, kind="quiz", title="Check", required=True)
        # A second required module keeps enrollments open: no certificate jobs in the way.
        text = Module(course_id=course.id, position=2, kind="text", title="Read", required=True)
        db.session.add_all([quiz, text])
        db.session.flush()
        for position, (kind, prompt, options, answer) in enumerate(QUESTIONS, start=1):
            db.session.add(
                QuizQuestion(
                    module_id=quiz.id,
                    position=position,
                    kind=kind,
                    prompt=prompt,
                    options=options,
                    answer=answer,
                    points=1,
                    explanation="Because.",
                )
            )
        db.session.commit()
    quiz_id = db.session.scalar(
        select(Module.id).where(Module.course_id == course.id, Module.kind == "quiz")
    )
    have = db.session.scalar(
        select(db.func.count()).select_from(User).where(User.email.like(f"%@{DOMAIN}"))
    )
    if have < n:
        password = hash_password("bench-grading")
        db.session.execute(
            insert(User),
            [
                {
                    "email": f"learner{i}@{DOMAIN}",
                    "name": f"Learner {i}",
                    "password_hash": password,
                    "active": True,
                    "created_at": now,
                }
                for i in range(have, n)
            ],
        )
        db.session.commit()
    learners = db.session.scalars(
        select(User.id).where(User.email.like(f"%@{DOMAIN}")).order_by(User.id).limit(n)
    ).all()
    enrolled = set(
        db.session.scalars(select(Enrollment.user_id).where(Enrollment.course_id == course.id))
    )
    missing = [u for u in learners if u not in enrolled]
    if missing:
        db.session.execute(
            insert(Enrollment),
            [
                {"user_id": u, "course_id": course.id, "status": "assigned", "created_at": now}
                for u in missing
            ],
        )
    # A clean slate for this run: no attempts, no progress, enrollments back to assigned.
    ours = select(Enrollment.id).where(Enrollment.course_id == course.id)
    db.session.execute(delete(Result).where(Result.enrollment_id.in_(ours)))
    db.session.execute(delete(Progress).where(Progress.enrollment_id.in_(ours)))
    db.session.execute(
        update(Enrollment)
        .where(Enrollment.course_id == course.id)
        .values(status="assigned", started_at=None, completed_at=None, score=None)
    )
    db.session.commit()
    pairs = db.session.execute(
        select(Enrollment.id, Enrollment.user_id)
        .where(Enrollment.course_id == course.id, Enrollment.user_id.in_(learners))
        .order_by(Enrollment.id)
    ).all()
    return quiz_id, [tuple(p) for p in pairs]


def answers_for(result, rng: random.Random) -> dict:
    """Form-style answers: about three in four right, the rest wrong or blank."""
    out = {}
    for q in result.questions:
        answer, right = q["answer"], rng.random() < 0.75
        kind = q["kind"]
        if kind in ("single", "multiple"):
            wanted = (
                answer["correct"]
                if right
                else [i for i in q["order"] if i not in answer["correct"]][:1]
            )
            shown = [str(q["order"].index(i)) for i in wanted]
            value = shown[0] if kind == "single" else shown
        elif kind == "true_false":
            value = "true" if answer["correct"] == right else "false"
        elif kind == "numeric":
            value = str(answer["value"] + (0 if right else 5))
        else:
            value = answer["accepted"][0] if right else ""
        out[str(q["id"])] = value
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--attempts", type=int, default=2000)
    parser.add_argument(
        "--worker",
        choices=["preloaded", "simple", "rq-cli"],
        default="preloaded",
        help="preloaded: a forking rq Worker around one app, warmed up as worker.py does; "
        "simple: the same app in an rq SimpleWorker (no fork per job); "
        "rq-cli: bare `python -m rq.cli worker` (each work-horse builds its own app)",
    )
    parser.add_argument("--timeout", type=int, default=1800, help="seconds to wait for the queue")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    redis_url = os.environ.get("BENCH_REDIS_URL") or DEFAULT_REDIS
    env = bench_env(database_url, REDIS_URL=redis_url, RQ_QUEUE_PREFIX=PREFIX)
    ensure_database(database_url)
    log(f"database: {database_url}; redis: {redis_url}; queue prefix {PREFIX!r}")
    flask(env, "db", "upgrade")
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))

    from rq import Queue
    from sqlalchemy import func, select

    from app import create_app
    from app.extensions import db
    from app.learning import quizzes
    from app.learning.models import Result
    from app.people.models import User
    from app.platform import jobs
    from app.platform.audit import AuditLog

    app = create_app()
    with app.app_context():
        conn = jobs.get_redis(app)
        queue = Queue(jobs.queue_name("grading"), connection=conn)
        queue.empty()
        started = time.monotonic()
        quiz_id, pairs = seed(args.attempts)
        log(f"seeded {len(pairs)} enrolled learners in {time.monotonic() - started:.1f}s")
        rng = random.Random(3)
        # One fresh session per call, as each request gets: a session that keeps thousands of
        # objects makes every commit slower (it expires them all).
        ids, start_s, submit_s = [], 0.0, 0.0
        for enrollment_id, user_id in pairs:
            t0 = time.monotonic()
            result = quizzes.start_attempt(enrollment_id, quiz_id, db.session.get(User, user_id))
            ids.append(result.id)
            start_s += time.monotonic() - t0
            db.session.remove()
        for result_id in ids:
            t0 = time.monotonic()
            result = db.session.get(Result, result_id)
            answers = answers_for(result, rng)
            quizzes.submit_attempt(result_id, answers, db.session.get(User, result.user_id))
            submit_s += time.monotonic() - t0
            db.session.remove()
        queued = queue.count
        log(
            f"started {len(ids)} attempts in {start_s:.1f}s; submitted+enqueued in "
            f"{submit_s:.1f}s ({len(ids) / submit_s:.0f}/s); {queued} jobs queued"
        )

        if args.worker != "rq-cli":
            code = PRELOADED_WORKER
            if args.worker == "simple":
                code = code.replace("Worker", "SimpleWorker")
            cmd = [sys.executable, "-c", code]
        else:
            cmd = [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url]
            cmd.append(jobs.queue_name("grading"))
        worker_log = open(OUT / "grading-worker.log", "w")  # noqa: SIM115
        t0 = time.monotonic()
        proc = subprocess.Popen(  # noqa: S603  (our own interpreter)
            [*cmd, "--quiet"] if args.worker == "rq-cli" else cmd,
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        drained = None
        try:
            while time.monotonic() - t0 < args.timeout:
                if drained is None and queue.count == 0:
                    drained = time.monotonic() - t0
                if proc.poll() is not None:
                    break
                time.sleep(0.05)
            else:
                os.killpg(proc.pid, signal.SIGTERM)
                raise SystemExit(f"worker still busy after {args.timeout}s")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            worker_log.close()
        done_s = time.monotonic() - t0
        db.session.expire_all()
        graded = db.session.scalar(
            select(func.count()).where(Result.id.in_(ids), Result.status == "graded")
        )
        passed = db.session.scalar(
            select(func.count()).where(Result.id.in_(ids), Result.passed.is_(True))
        )
        grades = db.session.execute(
            select(AuditLog.entity_id, func.count())
            .where(
                AuditLog.entity == "result",
                AuditLog.reason == "auto-graded",
                AuditLog.entity_id.in_([str(i) for i in ids]),
            )
            .group_by(AuditLog.entity_id)
        ).all()
        twice = sum(1 for _, c in grades if c != 1)
        first, last = db.session.execute(
            select(func.min(Result.graded_at), func.max(Result.graded_at)).where(Result.id.in_(ids))
        ).one()
        steady = (graded - 1) / (last - first).total_seconds() if graded > 1 else 0.0
        failed = queue.failed_job_registry.count

    rate = graded / done_s if done_s else 0.0
    print()
    print(
        f"{len(ids)} quiz attempts (10 questions, mixed kinds) on {database_url.split(':')[0]} + "
        f"Redis; one worker ({args.worker}), exit code {proc.returncode}"
    )
    print(f"| {'measure':<42} | {'value':>12} |")
    print(f"|{'-' * 44}|{'-' * 14}|")
    for label, value in [
        ("submit + enqueue rate (attempts/s)", f"{len(ids) / submit_s:.0f}"),
        ("queue empty after (s)", f"{drained or done_s:.1f}"),
        ("worker finished after (s)", f"{done_s:.1f}"),
        ("graded per second (one worker, wall clock)", f"{rate:.1f}"),
        ("graded per second (first to last grade)", f"{steady:.1f}"),
        ("graded / submitted", f"{graded} / {len(ids)}"),
        ("passed", f"{passed}"),
        ("graded more than once", f"{twice}"),
        ("failed jobs", f"{failed}"),
    ]:
        print(f"| {label:<42} | {value:>12} |")
    ok = graded == len(ids) and len(grades) == len(ids) and twice == 0 and failed == 0
    print(f"\nEvery attempt graded exactly once: {'YES' if ok else 'NO'}")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (OUT / f"grading-{stamp}.json").write_text(
        json.dumps(
            {
                "attempts": len(ids),
                "worker": args.worker,
                "submit_per_s": len(ids) / submit_s,
                "drain_s": drained,
                "worker_s": done_s,
                "graded_per_s": rate,
                "steady_graded_per_s": steady,
                "graded": graded,
                "twice": twice,
                "failed": failed,
            },
            indent=2,
        )
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
