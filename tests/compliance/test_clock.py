"""The clock schedules the nightly compliance run, and the run assigns and snapshots."""

from __future__ import annotations

from redis import Redis
from sqlalchemy import func, select

import clock
from app import run_job
from app.compliance.models import ComplianceSnapshot
from app.extensions import db
from app.learning.models import Enrollment
from tests.compliance.factories import RequirementFactory
from tests.helpers.jobs import run_queued_jobs
from tests.people.factories import JobRoleFactory, UserFactory

NIGHTLY = "compliance-nightly"  # the clock also schedules other jobs (the notification sweep)


def test_clock_registers_the_nightly_run_on_the_compliance_queue(app):
    app.config["NIGHTLY_CRON"] = "15 3 * * *"
    connection = Redis.from_url(app.config.get("REDIS_URL") or "redis://127.0.0.1:1/0")
    [job] = [j for j in clock.build_scheduler(app, connection)._cron_jobs if j.name == NIGHTLY]
    assert job.func is run_job
    assert job.args == ("compliance.nightly",)
    assert job.cron == "15 3 * * *"
    assert job.queue_name.endswith("compliance")
    assert (job.next_enqueue_time.hour, job.next_enqueue_time.minute) == (3, 15)


def test_the_nightly_job_assigns_training_and_takes_a_snapshot(app):
    role = JobRoleFactory()
    RequirementFactory(job_role=role)
    UserFactory(job_role=role)
    if app.config.get("REDIS_URL"):
        # The real path: the clock's job on the real queue, run by a worker.
        scheduler = clock.build_scheduler(app, Redis.from_url(app.config["REDIS_URL"]))
        [job] = [j for j in scheduler._cron_jobs if j.name == NIGHTLY]
        job.enqueue(Redis.from_url(app.config["REDIS_URL"]))
        run_queued_jobs(app)
    else:
        run_job("compliance.nightly")
    db.session.expire_all()
    assert (
        db.session.scalar(
            select(func.count()).select_from(Enrollment).where(Enrollment.source == "requirement")
        )
        == 1
    )
    assert db.session.scalar(select(func.count()).select_from(ComplianceSnapshot)) == 2
