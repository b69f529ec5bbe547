"""Pooled PostgreSQL connections: a dead idle one is replaced before a request can fail on it."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app import create_app
from app.extensions import db
from tests.conftest import BACKEND, Auth, FreshContextClient, _overrides
from tests.people.factories import UserFactory

pytestmark = pytest.mark.skipif(BACKEND != "postgresql", reason="PostgreSQL's connection pool")


@pytest.fixture
def pinging_app(app):
    """A second app on the same database whose pool pings any connection idle at all."""
    other = create_app({**_overrides(), "DB_PING_AFTER_IDLE_SECONDS": 0})
    other.test_client_class = FreshContextClient
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_connection_killed_while_idle_is_replaced_before_the_next_request(app, pinging_app):
    person = UserFactory(roles=["employee"])
    browser = pinging_app.test_client()
    Auth(browser).login(person)
    assert browser.get("/courses").status_code == 200
    with pinging_app.app_context():
        pool = db.engine.pool
        pids = {db.session.scalar(text("SELECT pg_backend_pid()"))}
        db.session.remove()
    assert pool.checkedin() >= 1
    with app.app_context():
        for pid in pids:
            db.session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        db.session.commit()

    resp = browser.get("/courses")

    assert resp.status_code == 200  # not a 500 from "server closed the connection"
    with pinging_app.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) not in pids


@pytest.fixture
def probing_app(app):
    """A second app with one extra route that reports how its request reaches PostgreSQL."""
    from flask import jsonify

    from app.people.permissions import PUBLIC, access

    other = create_app(_overrides())
    other.test_client_class = FreshContextClient

    @access(PUBLIC)
    def probe():
        conn = db.session.connection().connection.dbapi_connection
        settings = db.session.execute(
            text("SELECT current_setting('work_mem'), current_setting('enable_nestloop')")
        ).one()
        return jsonify(autocommit=conn.autocommit, settings=list(settings))

    other.add_url_rule("/_probe", view_func=probe, methods=["GET", "POST"])
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_reads_run_outside_a_transaction_and_writes_inside_one(probing_app):
    browser = probing_app.test_client()
    assert browser.get("/_probe").get_json()["autocommit"] is True  # no BEGIN, no ROLLBACK
    probing_app.config["WTF_CSRF_ENABLED"] = False
    assert browser.post("/_probe").get_json()["autocommit"] is False


def test_settings_for_heavy_reads_do_not_outlive_them(probing_app, app):
    from tests.compliance.factories import RequirementFactory
    from tests.people.factories import JobRoleFactory

    role = JobRoleFactory()
    RequirementFactory(job_role=role)
    UserFactory(roles=["employee"], job_role=role)
    qa = UserFactory(roles=["qa"])
    with probing_app.app_context():
        db.engine.dispose()  # one pooled connection, so the probe reuses the matrix's
    browser = probing_app.test_client()
    Auth(browser).login(qa)
    before = browser.get("/_probe").get_json()["settings"]
    assert browser.get("/compliance/matrix").status_code == 200  # SETs work_mem, nestloop
    assert browser.get("/compliance").status_code == 200
    assert browser.get("/_probe").get_json()["settings"] == before
    assert before[1] == "on"
