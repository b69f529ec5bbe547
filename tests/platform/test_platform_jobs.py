"""enqueue(): inline without Redis, through a real RQ worker process with it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.config import ROOT
from app.extensions import db
from app.people.models import LoginAttempt
from app.platform import clock, jobs
from app.platform.jobs import enqueue


def _attempts() -> None:
    now = clock.now()
    db.session.add_all(
        [
            LoginAttempt(email="old@example.com", ip="10.0.0.1", at=now - timedelta(days=200)),
            LoginAttempt(email="old2@example.com", ip="10.0.0.1", at=now - timedelta(days=91)),
            LoginAttempt(email="new@example.com", ip="10.0.0.2", at=now - timedelta(days=3)),
        ]
    )
    db.session.commit()


def _remaining() -> list[str]:
    db.session.expire_all()
    return sorted(db.session.scalars(select(LoginAttempt.email)))


def test_enqueue_runs_inline_without_redis(app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    _attempts()
    result = enqueue("people.prune_login_attempts")
    assert result == 2  # the job's own return value: it ran right here
    assert _remaining() == ["new@example.com"]
    assert enqueue("people.prune_login_attempts") == 0  # idempotent


def test_jobs_run_inline_inside_inline_even_with_redis(app, monkeypatch):
    """seed-demo's steps need each job's outcome at once: inline() runs them here, and the
    Redis queue (unreachable here, so any use would fail) is never touched."""
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.delitem(app.extensions, "cadre_redis", raising=False)
    _attempts()
    with jobs.inline():
        assert enqueue("people.prune_login_attempts") == 2
    assert _remaining() == ["new@example.com"]
    with pytest.raises(Exception, match="(?i)connect"):
        enqueue("people.prune_login_attempts")


def test_enqueue_refuses_non_job_paths(app):
    with pytest.raises(ValueError):
        enqueue("os.system", "true")


def test_a_job_queued_under_a_former_name_still_runs(app, monkeypatch):
    """Jobs queued before a rename (module paths under app.jobs, or an alias) keep working."""
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    _attempts()
    assert enqueue(jobs.LEGACY_PREFIX + "system.prune_login_attempts") == 2
    assert enqueue("system.prune_login_attempts") == 0
    assert jobs.resolve(jobs.LEGACY_PREFIX + "compliance.nightly").name == "compliance.nightly"


def test_every_job_has_one_stable_name_on_a_known_queue(app):
    registered = jobs.registered()
    assert {"compliance.nightly", "notifications.daily_sweep", "grading.grade_quiz_attempt"} <= set(
        registered
    )
    for name, spec in registered.items():
        assert spec.name == name and "." in name and not name.startswith("app.")
        assert spec.queue in jobs.QUEUES
    assert registered["grading.grade_quiz_attempt"].queue == "grading"
    with pytest.raises(ValueError, match="taken"):
        jobs.job("compliance.nightly")(lambda: None)


_WORKER = textwrap.dedent(
    """
    import os
    from rq import Worker
    from app import create_app
    from app.platform import jobs

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": os.environ["CADRE_TEST_DB_URI"],
        "RQ_QUEUE_PREFIX": os.environ["CADRE_TEST_QUEUE_PREFIX"],
    })
    jobs._app = app
    with app.app_context():
        conn = jobs.get_redis(app)
        queues = [jobs.queue_name(q) for q in jobs.QUEUES]
    Worker(queues, connection=conn).work(burst=True)
    """
)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")
def test_enqueue_goes_through_redis_to_a_worker_process(app):
    from rq.job import Job

    _attempts()
    job = enqueue("people.prune_login_attempts")
    assert isinstance(job, Job)  # queued, not run
    assert _remaining() == ["new@example.com", "old2@example.com", "old@example.com"]

    env = dict(
        os.environ,
        CADRE_TEST_DB_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        CADRE_TEST_QUEUE_PREFIX=app.config["RQ_QUEUE_PREFIX"],
    )
    proc = subprocess.run(  # noqa: S603  (our own interpreter and script)
        [sys.executable, "-c", _WORKER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]

    job.refresh()
    assert job.get_status() == "finished", proc.stderr[-2000:]
    assert job.return_value() == 2
    assert _remaining() == ["new@example.com"]
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 1
