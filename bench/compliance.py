"""Time the requirement engine, the compliance summary and the training matrix page at scale.

Seeds 10,000 people, 500 courses, 100,000 enrollments and 20 requirements per job role into
PostgreSQL database `cadre_bench_compliance` (unless DATABASE_URL says otherwise), then:

1. clears what the engine made (assignments, requirement enrollments) and times a full engine
   run over the whole organisation, then a second run (which must create nothing);
2. times the compliance summary by department and by job role (median of 5, in-process);
3. serves the app with gunicorn and runs wrk against the training matrix page of the largest
   department (about 500 people), signed in as QA, beside a hello-world floor.

Targets (issue 4): engine under 5 s, summary under 300 ms, matrix page p95 under 150 ms.

    .venv/bin/python bench/compliance.py        (or: make bench-compliance)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime

from _common import (
    OUT,
    ROOT,
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

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/cadre_bench_compliance"

IN_PROCESS = r"""
import json, statistics, sys, time
from sqlalchemy import delete, func, select, text
from app import create_app
from app.extensions import db
from app.models import Department, Enrollment, TrainingAssignment, User, UserRole
from app.services.compliance import run_requirement_engine, status_query

app = create_app()
out = {}
with app.app_context():
    # Start from "the engine never ran": its assignments and enrollments go.
    db.session.execute(delete(TrainingAssignment))
    db.session.execute(delete(Enrollment).where(Enrollment.source == "requirement"))
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()

    started = time.perf_counter()
    first = run_requirement_engine(cause="bench")
    out["engine_first_s"] = time.perf_counter() - started
    out["engine_first"] = first.__dict__
    started = time.perf_counter()
    again = run_requirement_engine(cause="bench")
    out["engine_again_s"] = time.perf_counter() - started
    out["engine_again"] = again.__dict__

    from app.services.compliance import Scope
    from datetime import date
    today = date.today()
    try:
        from app.services.compliance_reports import summary
    except ImportError:
        summary = None
    app.config["COMPLIANCE_CACHE_SECONDS"] = 0  # cold: the status derivation itself
    for by in ("department", "job_role"):
        times = []
        for _ in range(5):
            started = time.perf_counter()
            if summary is not None:
                rows = summary(today, by=by)
            else:
                st = status_query(today).subquery()
                key = User.department_id if by == "department" else User.job_role_id
                rows = db.session.execute(
                    select(key, func.count(), func.sum(st.c.ok))
                    .select_from(st).join(User, User.id == st.c.user_id).group_by(key)
                ).all()
            times.append(time.perf_counter() - started)
        out[f"summary_{by}_ms"] = statistics.median(times) * 1000
        out[f"summary_{by}_rows"] = len(rows)
    app.config["COMPLIANCE_CACHE_SECONDS"] = 600  # warm: reused until the audit trail moves
    if summary is not None:
        summary(today, by="department")
        started = time.perf_counter()
        summary(today, by="department")
        out["summary_warm_ms"] = (time.perf_counter() - started) * 1000
    # What the nightly run leaves behind: today's snapshot and the months before it.
    from app.services.compliance import backfill_snapshots, take_snapshot
    started = time.perf_counter()
    take_snapshot(today)
    out["snapshot_s"] = time.perf_counter() - started
    backfill_snapshots(12, today)
    out["pairs"] = db.session.scalar(
        select(func.count()).select_from(status_query(today).subquery())
    )
    dept_id, people = db.session.execute(
        select(User.department_id, func.count())
        .where(User.active.is_(True), User.department_id.is_not(None))
        .group_by(User.department_id).order_by(func.count().desc()).limit(1)
    ).one()
    out["department_id"], out["department_people"] = dept_id, people
    bench = db.session.scalar(select(User).where(User.email == "bench@example.com"))
    if "qa" not in bench.roles:
        db.session.add(UserRole(user_id=bench.id, role="qa"))
        db.session.commit()
print("RESULT " + json.dumps(out, default=str))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=10000)
    parser.add_argument("--requirements", type=int, default=20, help="per job role")
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds per target")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    args = parser.parse_args()

    database_url = os.environ.get("DATABASE_URL", DEFAULT_DB)
    if not database_url.startswith("postgresql"):
        log("this benchmark is for PostgreSQL; set DATABASE_URL to a postgresql:// URL")
        return 2
    wrk = ensure_wrk()
    env = bench_env(database_url)
    ensure_database(database_url)
    flask(env, "db", "upgrade")
    flask(
        env,
        "seed-scale",
        "--employees",
        str(args.employees),
        "--courses",
        "500",
        "--enrollments",
        str(args.employees * 10),
        "--requirements",
        str(args.requirements),
    )
    ensure_bench_user(env)

    log("engine and summary, in-process ...")
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS], cwd=ROOT, env=env, check=True, capture_output=True
    )
    line = next(x for x in done.stdout.decode().splitlines() if x.startswith("RESULT "))
    figures = json.loads(line[len("RESULT ") :])

    try:
        rows = measure(
            env,
            args,
            wrk,
            [
                (
                    f"matrix, {figures['department_people']} people",
                    f"/compliance/matrix?department_id={figures['department_id']}",
                ),
                ("compliance dashboard", "/compliance"),
            ],
        )
    finally:
        stop_servers()

    print()
    print(f"Requirement engine over {figures['pairs']} (person, requirement) pairs:")
    first = figures["engine_first"]
    print(
        f"  first run  {figures['engine_first_s']:6.2f} s  ({first['assignments']} assignments, "
        f"{first['enrollments']} enrollments, {first['renewals']} renewals)   target < 5 s"
    )
    again = figures["engine_again"]
    print(
        f"  second run {figures['engine_again_s']:6.2f} s  ({again['assignments']} assignments, "
        f"{again['enrollments']} enrollments)   must create nothing"
    )
    print(
        f"Compliance summary: by department {figures['summary_department_ms']:.0f} ms, "
        f"by job role {figures['summary_job_role_ms']:.0f} ms (computed), "
        f"{figures.get('summary_warm_ms', float('nan')):.1f} ms reused   target < 300 ms"
    )
    print(f"Nightly snapshot (all departments and job roles): {figures['snapshot_s']:.2f} s")
    print()
    print_wrk_table(rows)
    matrix = rows[1]
    print(f"\nmatrix page p95 {matrix['p95_ms']:.1f} ms   target < 150 ms")
    OUT.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = OUT / f"compliance-{stamp}.json"
    path.write_text(json.dumps({"figures": figures, "wrk": rows}, indent=2, default=str))
    log(f"raw figures in {path.relative_to(ROOT)}")
    ok = (
        figures["engine_first_s"] < 5
        and figures["summary_department_ms"] < 300
        and matrix["p95_ms"] < 150
        and not any(again.values())
    )
    return 0 if ok else 1


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    log(f"done in {time.perf_counter() - started:.0f} s")
    sys.exit(code)
