"""Helpers shared by the benchmarks: database setup, gunicorn servers, sign-in, wrk runs."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"
VENV_BIN = Path(sys.executable).parent
BENCH_EMAIL = "bench@example.com"
BENCH_PASSWORD = "bench-password"  # noqa: S105  (a local benchmark account)

_servers: list[subprocess.Popen] = []


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in `url` if it does not exist yet."""
    if not url.startswith(("postgresql://", "postgres://")):
        return
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            return
        log(f"creating database {name}")
        conn.execute(f'CREATE DATABASE "{name}"')


def flask(env: dict, *args: str) -> None:
    subprocess.run([str(VENV_BIN / "flask"), *args], cwd=ROOT, env=env, check=True)


def add_load_args(parser) -> None:
    """The wrk and gunicorn options every load benchmark takes."""
    parser.add_argument("--duration", type=int, default=10, help="seconds per target")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds per target")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")


def prepare_database(env: dict, database_url: str, *seed_args: str) -> None:
    """Create the database if missing, migrate it, and seed scale data (skipped when there)."""
    ensure_database(database_url)
    flask(env, "db", "upgrade")
    flask(env, "seed-scale", *seed_args)


def compliance_seed(employees: int, requirements: int) -> list[str]:
    """seed-scale arguments of the compliance-sized organisation (10 enrollments a person)."""
    return [
        "--employees", str(employees), "--courses", "500",
        "--enrollments", str(employees * 10), "--requirements", str(requirements),
    ]  # fmt: skip


def ensure_bench_user(env: dict) -> None:
    """Insert (or reset) the benchmark login: an employee with a known password."""
    script = """
import os
from sqlalchemy import select
from app import create_app
from app.extensions import db
from app.people.models import User, UserRole
from app.people.auth import hash_password

email, password = os.environ["BENCH_EMAIL"], os.environ["BENCH_PASSWORD"]
app = create_app()
with app.app_context():
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name="Bench Employee", active=True)
        user.role_grants.append(UserRole(role="employee"))
        db.session.add(user)
    user.password_hash = hash_password(password)
    user.active = True
    db.session.commit()
"""
    env = dict(env, BENCH_EMAIL=BENCH_EMAIL, BENCH_PASSWORD=BENCH_PASSWORD)
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True)


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    log("wrk is not installed: installing it with `apt-get install -y wrk` (Debian package)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    install = [*sudo, "apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, check=False).returncode != 0:
        subprocess.run([*sudo, "apt-get", "update", "-q"], check=True)
        subprocess.run(install, check=True)
    path = shutil.which("wrk")
    if not path:
        sys.exit("wrk could not be installed")
    return path


def start_gunicorn(app_spec: str, port: int, env: dict, workers: int, name: str, *extra: str):
    errors = open(OUT / f"{name}.log", "w")  # noqa: SIM115  (kept open for the server's life)
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            *extra,
            app_spec,
        ],
        cwd=ROOT,
        env=env,
        stdout=errors,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _servers.append(proc)
    return proc


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback)
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not answer within {timeout:.0f}s")


def stop_servers() -> None:
    for proc in _servers:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
    for proc in _servers:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    _servers.clear()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(base: str) -> str:
    """Sign in through the real form (GET for the CSRF token, then POST); return the cookie."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    with opener.open(f"{base}/login", timeout=10) as resp:
        page = resp.read().decode()
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if not match:
        raise SystemExit("no CSRF token on /login")
    form = urllib.parse.urlencode(
        {"email": BENCH_EMAIL, "password": BENCH_PASSWORD, "csrf_token": match.group(1)}
    ).encode()
    try:
        opener.open(f"{base}/login", data=form, timeout=10)
        raise SystemExit("sign-in did not redirect: wrong password or a changed login form")
    except urllib.error.HTTPError as exc:
        if exc.code != 302:
            raise SystemExit(f"sign-in answered {exc.code}") from exc
    cookies = {c.name: c.value for c in jar}
    if "cadre_session" not in cookies:
        raise SystemExit("sign-in set no cadre_session cookie")
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


def probe(url: str, cookie: str | None) -> tuple[int, int, str]:
    """Return (status, bytes, location) of one request, without following redirects."""
    opener = urllib.request.build_opener(_NoRedirect)
    headers = {"Cookie": cookie} if cookie else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback http)
    try:
        with opener.open(request, timeout=10) as resp:
            return resp.status, len(resp.read()), ""
    except urllib.error.HTTPError as exc:
        return exc.code, len(exc.read() or b""), exc.headers.get("Location", "")


def run_wrk(wrk: str, url: str, cookie: str | None, args) -> dict:
    cmd = [
        wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "5s",
        "-s",
        str(BENCH / "wrk_report.lua"),
    ]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    if args.warmup:
        warm = [*cmd[:3], f"-d{args.warmup}s", *cmd[4:], url]
        subprocess.run(warm, capture_output=True, check=False, timeout=args.warmup + 30)
    proc = subprocess.run(
        [*cmd, url], capture_output=True, text=True, check=False, timeout=args.duration + 60
    )
    for line in proc.stdout.splitlines():
        if line.startswith("WRK_REPORT "):
            return json.loads(line[len("WRK_REPORT ") :])
    raise SystemExit(f"wrk printed no report for {url}:\n{proc.stdout}\n{proc.stderr}")


def bench_env(database_url: str, **extra: str) -> dict:
    """The environment for the app's processes: no Redis/S3 unless given, one shared secret."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "S3_ENDPOINT", "S3_ACCESS_KEY", "S3_SECRET_KEY", "S3_BUCKET")
    }
    env.update(
        DATABASE_URL=database_url,
        FLASK_APP="wsgi.py",
        CADRE_INSTANCE=str(OUT / "instance"),
        # One key for every worker: each gunicorn worker builds its own app.
        SECRET_KEY=secrets.token_hex(32),
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def print_wrk_table(rows: list[dict]) -> None:
    head = (
        f"| {'target':<28} | {'HTTP':>4} | {'req/s':>8} | {'p50 ms':>7} | {'p95 ms':>7} | "
        f"{'p99 ms':>7} | {'errors':>6} |"
    )
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for r in rows:
        errors = r["status_errors"] + r["socket_errors"]
        print(
            f"| {r['target']:<28} | {r['status']:>4} | {r['rps']:>8.0f} | {r['p50_ms']:>7.1f} | "
            f"{r['p95_ms']:>7.1f} | {r['p99_ms']:>7.1f} | {errors:>6} |"
        )


def measure(env: dict, args, wrk: str, paths: list[tuple[str, str]]) -> list[dict]:
    """Serve the app and the hello floor, sign in, and wrk each (label, path) beside the floor."""
    app_port, hello_port = free_port(), free_port()
    try:
        start_gunicorn("wsgi:app", app_port, env, args.workers, "gunicorn-app")
        start_gunicorn(
            "hello_app:app", hello_port, env, args.workers, "gunicorn-hello", "--chdir", str(BENCH)
        )
        base = f"http://127.0.0.1:{app_port}"
        wait_http(f"{base}/healthz")
        wait_http(f"http://127.0.0.1:{hello_port}/")
        cookie = login(base)
        targets = [("Flask hello (floor)", f"http://127.0.0.1:{hello_port}/", None)]
        targets += [(label, f"{base}{path}", cookie) for label, path in paths]
        rows = []
        for label, url, jar in targets:
            status, size, location = probe(url, jar)
            note = f" -> {location}" if location else ""
            log(f"{label}: HTTP {status}, {size} bytes{note}; wrk {args.duration}s ...")
            result = run_wrk(wrk, url, jar, args)
            rows.append({"target": label, "url": url, "status": status, "bytes": size, **result})
        return rows
    finally:
        stop_servers()


def run_script(env: dict, script: str, *argv: str) -> dict | list:
    """Run a Python snippet in the app's environment; it prints one line "RESULT <json>"."""
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], cwd=ROOT, env=env, check=True, capture_output=True
    )
    line = next(x for x in done.stdout.decode().splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])
