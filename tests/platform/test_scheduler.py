"""The embedded scheduler: without Redis the served app runs the nightly run, the sweep and the
idempotency-key purge itself, once at start and then on their crons, in one thread per instance
folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.compliance.models import TrainingAssignment
from app.extensions import db
from app.notifications.models import Notification
from app.platform import clock, scheduler
from app.platform.scheduler import EmbeddedScheduler, Entry, Plan
from tests.compliance.factories import RequirementFactory
from tests.conftest import _overrides
from tests.people.factories import JobRoleFactory, UserFactory

NIGHTLY, SWEEP = "compliance.nightly", "notifications.daily_sweep"
PURGE = "api.purge_idempotency_keys"
CHECKPOINT = "audit.checkpoint"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def plan(app):
    return Plan([Entry(SWEEP, "0 6 * * *"), Entry(NIGHTLY, "30 2 * * *")])


def test_the_app_schedules_the_nightly_run_the_sweep_and_the_purge_from_config(app):
    app.config["NIGHTLY_CRON"] = "15 3 * * *"

    assert scheduler.entries(app) == [
        Entry(PURGE, "20 * * * *"),
        Entry(CHECKPOINT, "0 * * * *"),
        Entry(NIGHTLY, "15 3 * * *"),
        Entry(SWEEP, "0 6 * * *"),
    ]


def test_everything_runs_at_start_the_nightly_run_before_the_sweep(plan):
    assert plan.due(clock.now()) == [NIGHTLY, SWEEP]
    assert plan.wait(clock.now()) == 0


def test_after_start_each_job_waits_for_its_cron(plan):
    started = clock.now()  # 2026-12-07 09:30 UTC
    for name in plan.due(started):
        plan.ran(name, started)

    assert plan.next_at == {NIGHTLY: at("2026-12-08T02:30"), SWEEP: at("2026-12-08T06:00")}
    assert plan.due(at("2026-12-07T23:59")) == []
    assert plan.wait(at("2026-12-07T23:59")) == 60  # looks at the clock at least every minute
    assert plan.wait(at("2026-12-08T02:29:30")) == 30
    assert plan.due(at("2026-12-08T02:30")) == [NIGHTLY]
    plan.ran(NIGHTLY, at("2026-12-08T02:31"))
    assert plan.due(at("2026-12-08T05:59")) == []
    assert plan.due(at("2026-12-08T06:00")) == [SWEEP]
    plan.ran(SWEEP, at("2026-12-08T06:00"))
    assert plan.next_at == {NIGHTLY: at("2026-12-09T02:30"), SWEEP: at("2026-12-09T06:00")}


def test_days_missed_asleep_run_once_on_waking(plan):
    for name in plan.due(clock.now()):
        plan.ran(name, clock.now())
    woke = clock.now() + timedelta(days=3)

    assert plan.due(woke) == [NIGHTLY, SWEEP]
    for name in plan.due(woke):
        plan.ran(name, woke)
    assert plan.due(woke + timedelta(minutes=1)) == []


def _due_in_a_week():
    """A person whose required training is due in 7 days: the sweep reminds them today."""
    role = JobRoleFactory()
    req = RequirementFactory(job_role=role)
    person = UserFactory(name="Pat Person", job_role_id=role.id)
    db.session.add(
        TrainingAssignment(
            user_id=person.id,
            requirement_id=req.id,
            cycle=1,
            due_date=clock.today() + timedelta(days=7),
        )
    )
    db.session.commit()
    return person


def _reminders(person) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == person.id)))


def test_starting_the_scheduler_runs_each_scheduled_job_once(app):
    person = _due_in_a_week()
    assert _reminders(person) == []

    running = EmbeddedScheduler(app).start()
    try:
        assert running.first_pass.wait(120)
    finally:
        running.stop()

    # The hourly jobs come first in a day, then the nightly run, then the sweep.
    assert [name for name, _ in running.runs] == [PURGE, CHECKPOINT, NIGHTLY, SWEEP]
    assert [n.kind for n in _reminders(person)] == ["due_reminder"]
    assert running.tick() == []  # nothing more is due today


def test_one_process_per_instance_folder_runs_the_jobs(app):
    first = EmbeddedScheduler(app).start()
    try:
        assert first.first_pass.wait(120)
        second = EmbeddedScheduler(app)
        assert not second._take_lock()
    finally:
        first.stop()
    assert second._take_lock()  # the holder exited: another process takes over
    second._release_lock()


def test_only_a_served_app_without_redis_starts_it(app):
    assert not scheduler.enabled(app)  # tests (TESTING) never start it
    served = create_app({**_overrides(), "TESTING": False, "REDIS_URL": None})
    assert scheduler.enabled(served)
    assert not scheduler.enabled(
        create_app({**_overrides(), "TESTING": False, "REDIS_URL": "redis://127.0.0.1:1/0"})
    )
    off = create_app({**_overrides(), "TESTING": False, "EMBEDDED_SCHEDULER": False})
    assert not scheduler.enabled(off)


def test_the_first_request_starts_one_scheduler_and_commands_start_none(app):
    served = create_app({**_overrides(), "TESTING": False, "REDIS_URL": None})
    try:
        result = served.test_cli_runner().invoke(args=["notifications-sweep"])
        assert result.exit_code == 0, result.output
        assert scheduler._running is None

        served.test_client().get("/login")
        started = scheduler._running
        served.test_client().get("/login")

        assert started is not None and scheduler._running is started
        assert started.first_pass.wait(120)
    finally:
        scheduler.stop()
    assert scheduler._running is None
