"""Test fixtures: one app per test on the configured backends, a clean database per test.

With DATABASE_URL / REDIS_URL / S3_ENDPOINT set (as .ci/run does) the suite runs on PostgreSQL,
Redis and S3; with none set, on SQLite, in-process jobs and a local folder.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="cadre-test-"))
os.environ["CADRE_INSTANCE"] = str(_TMP / "instance")
os.environ["CADRE_ARGON2_FAST"] = "1"
os.environ.setdefault("SECRET_KEY", "test-secret-key")

from datetime import datetime  # noqa: E402

from flask import current_app  # noqa: E402
from flask.testing import FlaskClient  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.platform import clock  # noqa: E402
from tests.helpers import audit_guard  # noqa: E402

# Fixtures shared across domains (users by role, API tokens).
pytest_plugins = ("tests.helpers.api",)

RUN_ID = secrets.token_hex(3)

# The instant every test starts at on the app's clock (app.platform.clock). Dates in tests are
# built from it (`clock.today()`, `clock.now()`), so the suite passes whatever the machine's
# date is; `make test-dates` runs the date-sensitive modules at other instants too.
PINNED_NOW = datetime.fromisoformat(os.environ.get("CADRE_TEST_NOW") or "2026-12-07T09:30:00+00:00")
clock.pin(PINNED_NOW)  # collection too: module-level dates of test modules
BACKEND = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
# With DATABASE_OWNER_URL as well (.ci/run sets both), the schema belongs to that role and the
# suite runs as DATABASE_URL's role with the app's privileges (app.audit.app_role), so it shows
# the app works under them; what only the owner may do goes through `as_owner()`.
SEPARATE_OWNER = (
    BACKEND == "postgresql"
    and make_url(os.environ.get("DATABASE_OWNER_URL") or os.environ["DATABASE_URL"]).username
    != make_url(os.environ["DATABASE_URL"]).username
)


def _overrides() -> dict:
    o = {
        "TESTING": True,
        "SERVER_NAME": "cadre.test",
        "RQ_QUEUE_PREFIX": f"test-{RUN_ID}-",
        # Rate limiter counters (on Redis when configured): apart per run and per app, so
        # parallel runs and earlier tests never count against a test; limits high enough that
        # no test meets them but tests/api/test_rate_limits.py, which lowers them.
        "RATELIMIT_KEY_PREFIX": f"test-{RUN_ID}-{secrets.token_hex(4)}",
        "API_RATE_LIMIT": "100000/minute",
        "API_WRITE_RATE_LIMIT": "100000/minute",
        "STORAGE_DIR": str(_TMP / "files"),
        # Tests write records with factories (no audit rows), which the compliance read memo
        # cannot see; tests/compliance/test_read_memo.py turns it on and checks it.
        "COMPLIANCE_CACHE_SECONDS": 0,
        # Same for the stored statuses; tests/compliance/test_status_store.py turns them on.
        "COMPLIANCE_STATUS_STORE": False,
    }
    if not os.environ.get("DATABASE_URL"):
        o["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{_TMP / 'test.db'}"
    if os.environ.get("S3_ENDPOINT"):
        o["S3_BUCKET"] = f"cadre-test-{RUN_ID}"
    return o


@pytest.fixture(scope="session")
def _schema():
    """Build the schema once per run with the real migrations (so they are tested too)."""
    from flask_migrate import upgrade

    app = create_app(_overrides())
    with app.app_context():
        if BACKEND == "postgresql":
            with as_owner() as owner:
                owner.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"))
        upgrade()  # as the owner: migrations/env.py connects with DATABASE_OWNER_URL
        if SEPARATE_OWNER:
            from app.audit.app_role import grant_app_role

            with as_owner() as owner:
                grant_app_role(owner, make_url(app.config["SQLALCHEMY_DATABASE_URI"]).username)
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    yield tables


@cache
def _owner_engine(url: str):
    return create_engine(url, pool_size=1)


@contextmanager
def as_owner():
    """The database as the schema's owner, for what the app's role may not do (DDL, switching
    triggers off, emptying or tampering with the trail), committed at the end: a connection of
    DATABASE_OWNER_URL's role, or db.session where the app's role is the owner."""
    if not SEPARATE_OWNER:
        yield db.session
        db.session.commit()
        return
    db.session.commit()  # else the owner's DDL or TRUNCATE would wait for this session's locks
    with _owner_engine(current_app.config["DATABASE_OWNER_URL"]).begin() as connection:
        yield connection


@pytest.fixture(scope="session", autouse=True)
def _name_the_build(record_testsuite_property):
    """Write the build under test into the JUnit results (testsuite properties), so validation
    evidence built from them says which build the run proved."""
    from app.gxp.validation_report import current_commit
    from app.platform.release import VERSION

    with create_app(_overrides()).app_context():
        commit = current_commit()
    record_testsuite_property("cadre_version", VERSION)
    record_testsuite_property("cadre_commit", commit)


# Append-only on PostgreSQL: their trigger refuses DELETE, so they are truncated.
APPEND_ONLY = ("audit_log", "e_signatures")


def _clean(tables: list[str]) -> None:
    """Empty every table and restart its ids, as the owner (the app's role may not empty the
    trail). On PostgreSQL, DELETE in dependency order: a TRUNCATE of all ~40 tables costs
    ~160 ms per test (new files for each), DELETE on tables a test left nearly empty ~20 ms."""
    with as_owner() as owner:
        if BACKEND == "postgresql":
            # Their TRUNCATE guard (migration 0019) is switched off for this transaction only,
            # which the owner may do (the app's role may not).
            for name in APPEND_ONLY:
                owner.execute(text(f"ALTER TABLE {name} DISABLE TRIGGER {name}_no_truncate"))
            owner.execute(text(f"TRUNCATE {', '.join(APPEND_ONLY)} RESTART IDENTITY CASCADE"))
            for name in APPEND_ONLY:
                owner.execute(text(f"ALTER TABLE {name} ENABLE TRIGGER {name}_no_truncate"))
            for name in tables:
                if name not in APPEND_ONLY:
                    owner.execute(text(f"DELETE FROM {name}"))
            owner.execute(
                text(
                    "SELECT setval(oid, 1, false) FROM pg_class"
                    " WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
                )
            )
        else:
            for name in tables:
                owner.execute(text(f"DELETE FROM {name}"))
            if _has_sqlite_sequence():
                owner.execute(text("DELETE FROM sqlite_sequence"))


def _has_sqlite_sequence() -> bool:
    return bool(
        db.session.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first()
    )


class FreshContextClient(FlaskClient):
    """Serve each request in a fresh app context, as production does.

    Tests hold an app context for factories; without this, `g` (and Flask-Login's cached user)
    and the SQLAlchemy session would leak from one request into the next.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


class PinnedClock:
    """The app's clock in a test: it starts at PINNED_NOW and runs on from there."""

    def move_to(self, moment: datetime) -> None:
        clock.pin(moment)

    def shift(self, delta) -> None:
        clock.pin(clock.now() + delta)


@pytest.fixture(autouse=True)
def pinned_clock():
    """Start every test at PINNED_NOW on the app's clock; `pinned_clock.move_to(moment)` and
    `.shift(timedelta)` move it."""
    clock.pin(PINNED_NOW)
    yield PinnedClock()
    clock.pin(PINNED_NOW)


@pytest.fixture
def app(_schema):
    app = create_app(_overrides())
    app.test_client_class = FreshContextClient
    app.before_request(audit_guard.note_route)
    ctx = app.app_context()
    ctx.push()
    try:
        yield app
    finally:
        db.session.rollback()
        db.session.expire_all()
        _clean(_schema)
        _clean_checkpoints()
        db.session.remove()
        # Each test's app has its own engine and pool: close them now, not when the garbage
        # collector gets round to it, or a run holds dozens of idle PostgreSQL connections.
        for engine in db.engines.values():
            engine.dispose()
        ctx.pop()


def _clean_checkpoints() -> None:
    """Forget the audit chain's checkpoints (kept in file storage, not the database), or one
    test's checkpoint would flag the next test's fresh trail as truncated."""
    from app.audit.checkpoints import PREFIX
    from app.platform.storage import get_storage

    storage = get_storage()
    for key in storage.keys(PREFIX):
        storage.delete(key)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Auth:
    """Sign a test client in and out through the real login form."""

    def __init__(self, client):
        self.client = client

    def login(self, user, password: str = "password"):
        resp = self.client.post(
            "/login",
            data={"email": user.email, "password": password, "csrf_token": csrf(self.client)},
        )
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return resp

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf(self.client, "/home")})


_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def csrf(client, path: str = "/login") -> str:
    """Fetch a page and return the CSRF token it carries for this client's session."""
    body = client.get(path).get_data(as_text=True)
    m = _CSRF.search(body) or re.search(r'"X-CSRFToken": "([^"]+)"', body)
    assert m, f"no CSRF token on {path}"
    return m.group(1)


def fetch_download(client, location: str) -> bytes:
    """Follow a download link: our own signed URL, or a presigned URL on the S3 server."""
    if location.startswith("http") and "cadre.test" not in location:
        import urllib.request

        with urllib.request.urlopen(location, timeout=10) as r:  # noqa: S310 (loopback S3)
            assert r.status == 200
            return r.read()
    download = client.get(location)
    assert download.status_code == 200
    return download.data


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def count_queries(app):
    """Count SQL statements run inside the `with` block (not SET/RESET of session settings,
    which PostgreSQL-only planner hints such as `pg_setting()` wrap around a query)."""
    from contextlib import contextmanager

    from sqlalchemy import event

    @contextmanager
    def counter():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            if not statement.startswith(("SET ", "RESET ")):
                statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counter


# --- audit completeness (see tests/audit_guard.py) ------------------------------------------

audit_guard.install()


def pytest_sessionfinish(session, exitstatus):
    """A whole-suite run fails when a state-changing route was never exercised (so never
    checked for its audit rows)."""
    if not audit_guard.whole_suite(session):
        return
    missing = audit_guard.unexercised_routes(create_app(_overrides()))
    if missing:
        print("\nState-changing routes no test exercised (their audit rows are unchecked):")
        for endpoint, method, rule in missing:
            print(f"  {method} {rule}  ({endpoint})")
        session.exitstatus = 1


@pytest.fixture(autouse=True)
def _audit_complete():
    """Every request or job in every test must audit the training records it changes."""
    audit_guard.violations.clear()
    yield
    found = list(audit_guard.violations)
    audit_guard.violations.clear()
    if os.environ.get("AUDIT_GUARD_REPORT"):
        with open(os.environ["AUDIT_GUARD_REPORT"], "a") as fh:
            for v in found:
                fh.write(f"{v}\n")
        return
    assert not found, "unaudited changes:\n" + "\n".join(map(str, found))
