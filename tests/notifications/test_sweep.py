"""The daily sweep: reminders 30/7/1 days before a due date, the overdue notice the day after,
escalation to the manager 7 days later, session reminders 24 hours ahead; each once however
often the sweep runs. Scheduled by the clock and runnable from the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from redis import Redis
from sqlalchemy import select

import clock
from app import run_job
from app.classroom.models import SessionRegistration, TrainingSession
from app.compliance.models import TrainingAssignment
from app.extensions import db
from app.learning.models import Enrollment
from app.notifications.models import Notification
from app.notifications.sweep import run_sweep
from tests.compliance.factories import RequirementFactory
from tests.learning.factories import CourseFactory
from tests.people.factories import JobRoleFactory, UserFactory

DUE = date(2026, 6, 30)


def notes(user=None, kind=None) -> list[Notification]:
    q = select(Notification).order_by(Notification.id)
    if user is not None:
        q = q.where(Notification.user_id == user.id)
    if kind is not None:
        q = q.where(Notification.kind == kind)
    db.session.expire_all()
    return list(db.session.scalars(q))


def sweep(on: date, drain) -> None:
    run_job("notifications.daily_sweep", on.isoformat())
    drain()


def world():
    """A person due on DUE with a manager, and a colleague who completed the course."""
    role = JobRoleFactory()
    course = CourseFactory(title="Cold chain")
    req = RequirementFactory(job_role=role, course=course)
    boss = UserFactory(name="Bea Boss")
    person = UserFactory(name="Pat Person", job_role_id=role.id, manager_id=boss.id)
    done = UserFactory(job_role_id=role.id, manager_id=boss.id)
    for who in (person, done):
        db.session.add(
            TrainingAssignment(user_id=who.id, requirement_id=req.id, cycle=1, due_date=DUE)
        )
    db.session.add(
        Enrollment(
            user_id=done.id,
            course_id=course.id,
            status="completed",
            completed_at=datetime(2026, 5, 2, 9, tzinfo=UTC),
        )
    )
    db.session.commit()
    return person, boss, course, req


def test_reminders_come_at_30_7_1_days_then_overdue_then_escalation(app, drain):
    person, boss, course, _ = world()
    expected = [
        (DUE - timedelta(days=31), []),
        (DUE - timedelta(days=30), [("due_reminder", "Due on 2026-06-30: Cold chain")]),
        (DUE - timedelta(days=20), []),
        (DUE - timedelta(days=7), [("due_reminder", "Due on 2026-06-30: Cold chain")]),
        (DUE - timedelta(days=1), [("due_reminder", "Due tomorrow: Cold chain")]),
        (DUE, []),
        (DUE + timedelta(days=1), [("overdue", "Overdue: Cold chain")]),
        (DUE + timedelta(days=6), []),
        (DUE + timedelta(days=7), [("escalation", "Pat Person is overdue: Cold chain")]),
        (DUE + timedelta(days=30), []),
    ]
    seen = 0
    for on, new in expected:
        sweep(on, drain)
        rows = notes()
        assert [(n.kind, n.title) for n in rows[seen:]] == new, on
        seen = len(rows)

    mine = notes(person)
    assert [n.dedupe_key.rsplit(":", 1)[-1] for n in mine[:3]] == ["30", "7", "1"]
    assert {n.url for n in mine} == {f"/courses/{course.id}"}
    [escalation] = notes(boss)
    assert escalation.url == f"/people/{person.id}/record"
    assert "2026-06-30" in escalation.body
    # No SMTP_HOST: each email went to the log and counts as sent, exactly once.
    assert {(n.email_state, n.email_attempts) for n in notes()} == {("sent", 1)}


def test_a_late_first_sweep_sends_only_the_threshold_reached(app, drain):
    world()
    sweep(DUE - timedelta(days=5), drain)
    assert [n.dedupe_key.rsplit(":", 1)[-1] for n in notes()] == ["7"]


def test_running_the_sweep_twice_sends_each_reminder_once(app, drain, smtp):
    world()
    on = DUE + timedelta(days=8)  # overdue and escalated on the first run
    sweep(on, drain)
    sweep(on, drain)
    assert sorted(n.kind for n in notes()) == ["escalation", "overdue"]
    assert sorted(m["Subject"] for m in smtp.messages) == [
        "Overdue: Cold chain",
        "Pat Person is overdue: Cold chain",
    ]


def test_session_reminders_go_24_hours_ahead_to_people_with_a_seat(app, drain):
    course = CourseFactory(title="Forklift practice")
    starts = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    session = TrainingSession(
        uid="s-1",
        course_id=course.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        capacity=2,
        location="Hall B",
    )
    db.session.add(session)
    db.session.flush()
    seated = UserFactory(timezone="Europe/Zurich")
    waiting, cancelled = UserFactory(), UserFactory()
    for user, status in ((seated, "registered"), (waiting, "waitlisted"), (cancelled, "cancelled")):
        db.session.add(SessionRegistration(session_id=session.id, user_id=user.id, status=status))
    db.session.commit()

    run_sweep(on=date(2026, 6, 1), now=starts - timedelta(hours=25))
    assert notes(kind="session_reminder") == []
    for _ in range(2):
        run_sweep(on=date(2026, 6, 1), now=starts - timedelta(hours=23))
        drain()
    [reminder] = notes(kind="session_reminder")
    assert reminder.user_id == seated.id
    assert reminder.title == "Tomorrow: Forklift practice"
    assert "Wed 01 Jul 2026 at 10:00 (Europe/Zurich), Hall B" in reminder.body
    assert reminder.url == f"/sessions/{session.id}"


def test_the_clock_schedules_the_sweep_on_the_notifications_queue(app):
    app.config["SWEEP_CRON"] = "5 6 * * *"
    connection = Redis.from_url(app.config.get("REDIS_URL") or "redis://127.0.0.1:1/0")
    [job] = [
        j
        for j in clock.build_scheduler(app, connection)._cron_jobs
        if j.name == "notifications-daily-sweep"
    ]
    assert job.func is run_job
    assert job.args == ("notifications.daily_sweep",)
    assert job.cron == "5 6 * * *"
    assert job.queue_name.endswith("notifications")
    assert (job.next_enqueue_time.hour, job.next_enqueue_time.minute) == (6, 5)


def test_the_cli_runs_the_sweep(app, runner, drain):
    world()
    result = runner.invoke(args=["notifications-sweep", "--on", "2026-07-01"])
    assert result.exit_code == 0, result.output
    assert "1 overdue notices" in result.output
    drain()
    assert [n.kind for n in notes()] == ["overdue"]
