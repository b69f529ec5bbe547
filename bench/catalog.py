"""Load-test the catalog page and the courses API beside a Flask hello-world (the stack's floor).

Seeds scale data (10,000 people, 500 courses) into PostgreSQL database `cadre_bench` unless
DATABASE_URL says otherwise, serves the app and a hello app with gunicorn (2 sync workers each)
on loopback, signs in, and runs wrk against each target. Prints req/s and p50/p95/p99 in ms.
Without Redis by default; `--redis` serves with REDIS_URL set (the catalog generation counter).

    .venv/bin/python bench/catalog.py            (or: make bench)
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
    OUT,
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

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/cadre_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
TARGET_P95_MS = 50.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=10000)
    parser.add_argument("--courses", type=int, default=500)
    add_load_args(parser)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure everything this many times (fresh servers each round); the table shows, "
        "per target, its median round by p95, each round's floor is printed too",
    )
    parser.add_argument(
        "--redis",
        nargs="?",
        const=DEFAULT_REDIS,
        default=None,
        metavar="URL",
        help=f"serve with REDIS_URL (default URL {DEFAULT_REDIS})",
    )
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    extra = {"REDIS_URL": args.redis, "RQ_QUEUE_PREFIX": "bench-catalog:"} if args.redis else {}
    env = bench_env(database_url, **extra)
    wrk = ensure_wrk()
    started = time.monotonic()
    ensure_database(database_url)
    log(f"database: {database_url}")
    flask(env, "db", "upgrade")
    flask(env, "seed-scale", "--employees", str(args.employees), "--courses", str(args.courses))
    ensure_bench_user(env)
    log(f"setup took {time.monotonic() - started:.1f}s")

    targets = [
        ("GET /courses", "/courses"),
        ("GET /api/training/courses", "/api/training/courses"),
        ("GET /courses?q=safety", "/courses?q=safety"),
    ]
    rounds = []
    for n in range(max(1, args.rounds)):
        if args.rounds > 1:
            log(f"round {n + 1} of {args.rounds}")
        rounds.append(measure(env, args, wrk, targets))
    rows = median_rows(rounds)

    print_table(rows, args, database_url)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    raw = rows if len(rounds) == 1 else {"median": rows, "rounds": rounds}
    (OUT / f"catalog-{stamp}.json").write_text(json.dumps(raw, indent=2))
    log(f"raw figures: bench/out/catalog-{stamp}.json; total {time.monotonic() - started:.0f}s")
    return 0


def median_rows(rounds: list[list[dict]]) -> list[dict]:
    """Per target, the round with the median p95 (a real run's figures, not a blend)."""
    per_target = [[rows[i] for rows in rounds] for i in range(len(rounds[0]))]
    if len(rounds) > 1:
        print("\nEvery round (req/s / p95 ms):")
        for runs in per_target:
            figures = ", ".join(f"{r['rps']:.0f} / {r['p95_ms']:.1f}" for r in runs)
            print(f"  {runs[0]['target']:<28} {figures}")
    return [sorted(runs, key=lambda r: r["p95_ms"])[(len(runs) - 1) // 2] for runs in per_target]


def print_table(rows: list[dict], args, database_url: str) -> None:
    backend = database_url.split(":", 1)[0] + (" + redis" if args.redis else "")
    print()
    print(
        f"wrk {args.threads} threads, {args.connections} connections, {args.duration}s per target, "
        f"{'median of ' + str(args.rounds) + ' rounds' if args.rounds > 1 else 'one round'}; "
        f"gunicorn {args.workers} sync workers; {backend}; "
        f"{args.employees} employees, {args.courses} courses"
    )
    print_wrk_table(rows)
    catalog = next(r for r in rows if r["target"] == "GET /courses")
    verdict = "MET" if catalog["status"] == 200 and catalog["p95_ms"] < TARGET_P95_MS else "NOT MET"
    print(
        f"\nTarget: catalog p95 < {TARGET_P95_MS:.0f} ms at {args.courses} courses on PostgreSQL: "
        f"{verdict} (p95 {catalog['p95_ms']:.1f} ms, HTTP {catalog['status']})."
    )
    for r in rows:
        if r["status"] != 200:
            print(
                f"Note: {r['target']} answered HTTP {r['status']}; its figures are for that answer."
            )


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        sys.exit(main())
    finally:
        stop_servers()
