"""Quiz grading by real `rq worker` processes on Redis, including a worker killed mid-grading."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.config import ROOT
from app.extensions import db
from app.learning import quizzes
from app.learning.models import Result
from app.platform.audit import AuditLog
from app.platform.jobs import get_redis, queue_name
from tests.learning.player.conftest import add_module, add_quiz, correct_answers

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")


def _worker_env(app, **extra) -> dict[str, str]:
    """The test app's backends for a worker process that builds its app with create_app()."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        RQ_QUEUE_PREFIX=app.config["RQ_QUEUE_PREFIX"],
        REDIS_URL=app.config["REDIS_URL"],
        STORAGE_DIR=app.config["STORAGE_DIR"],
        S3_BUCKET=app.config["S3_BUCKET"],
        CADRE_TEST_GRADING_DELAY="0",
    )
    env.update(extra)
    return env


def _rq_worker(app, *flags: str, **env) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "rq.cli", "worker", "--url", app.config["REDIS_URL"], *flags]
    return subprocess.Popen(  # noqa: S603  (our own interpreter running rq)
        [*cmd, queue_name("grading")],
        cwd=ROOT,
        env=_worker_env(app, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _submitted_attempt(course, enrollment, learner):
    """A learner's submitted quiz attempt whose grading job sits in Redis."""
    quiz = add_quiz(course)
    add_module(course, "text")  # keeps the enrollment open: no certificate job in the way
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    answers = {k[2:]: v for k, v in correct_answers(result).items()}
    quizzes.submit_attempt(result.id, answers, learner)
    from rq.job import Job

    job = Job.fetch(f"grade-result-{result.id}", connection=get_redis())
    assert job.get_status() == "queued"
    return result, job


def _graded_once(result_id: int) -> Result:
    db.session.expire_all()
    result = db.session.get(Result, result_id)
    assert (result.status, result.score, result.max_score, result.passed) == (
        "graded",
        10.0,
        10.0,
        True,
    )
    grades = db.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(
            AuditLog.entity == "result",
            AuditLog.entity_id == str(result_id),
            AuditLog.reason == "auto-graded",
        )
    )
    assert grades == 1
    return result


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_real_rq_worker_grades_a_submission_exactly_once(app, course, enrollment, learner):
    result, job = _submitted_attempt(course, enrollment, learner)

    proc = _rq_worker(app, "--burst")
    out, _ = proc.communicate(timeout=120)

    assert proc.returncode == 0, out[-3000:]
    job.refresh()
    assert job.get_status() == "finished", out[-3000:]
    assert job.return_value() is True
    _graded_once(result.id)


@pytest.mark.parametrize("victim", ["work-horse", "whole worker"])
def test_a_worker_killed_mid_grading_loses_nothing(app, course, enrollment, learner, victim):
    from rq import Queue
    from rq.registry import StartedJobRegistry

    result, job = _submitted_attempt(course, enrollment, learner)
    queue = Queue(queue_name("grading"), connection=get_redis())

    # Worker A holds the claimed, uncommitted grade for a minute: we kill it in that window.
    first = _rq_worker(app, "--burst", CADRE_TEST_GRADING_DELAY="60")
    try:
        _wait(lambda: job.get_status(refresh=True) == "started", 60, "the job to start")
        horse = _wait(lambda: _children(first.pid), 30, "the work-horse")[0]
        time.sleep(4)  # the horse builds its app, grades, and sits on the uncommitted claim
        os.kill(horse, signal.SIGKILL)
        if victim == "whole worker":
            os.kill(first.pid, signal.SIGKILL)
        out, _ = first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()

    db.session.expire_all()
    assert db.session.get(Result, result.id).status == "submitted"  # nothing half-written
    if victim == "whole worker":
        # Nobody is left to notice: the started entry lingers until its heartbeat TTL (about
        # 90 s) lapses, then the next worker's registry cleanup retries it. Jump that clock.
        started = StartedJobRegistry(queue=queue)
        assert job.id in started.get_job_ids(cleanup=False)
        started.cleanup(timestamp=time.time() + 3600)
    assert job.get_status(refresh=True) == "scheduled", out[-3000:]  # RQ Retry, not failed
    when = queue.scheduled_job_registry.get_scheduled_time(job.id).timestamp()
    time.sleep(max(0.0, when - time.time() + 0.5))

    second = _rq_worker(app, "--burst", "--with-scheduler")
    out, _ = second.communicate(timeout=120)

    assert second.returncode == 0, out[-3000:]
    assert job.get_status(refresh=True) == "finished", out[-3000:]
    _graded_once(result.id)
