"""Sessions service: scheduling, series, conflicts, booking and the waitlist, sign-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.models import ESignature
from app.audit.signatures import manifestations_for
from app.classroom.attendance import mark_attendance, sign_off
from app.classroom.booking import cancel_registration, register
from app.classroom.models import SessionRegistration, TrainingSession
from app.classroom.scheduling import cancel_session, create_sessions, update_session
from app.classroom.sessions import SessionFilters, session_detail, sessions_between
from app.extensions import db
from app.learning.models import Certification, Enrollment
from app.platform.errors import Conflict, Forbidden, Invalid
from tests.classroom.sessions.conftest import at, notifications, schedule
from tests.helpers.jobs import run_queued_jobs
from tests.helpers.records import audit_rows, count
from tests.learning.factories import EnrollmentFactory, ModuleFactory
from tests.people.factories import UserFactory


def _reg(session, user) -> SessionRegistration:
    return db.session.scalar(
        select(SessionRegistration).where(
            SessionRegistration.session_id == session.id, SessionRegistration.user_id == user.id
        )
    )


# --- create, edit, cancel ------------------------------------------------------------------


def test_create_stores_utc_from_the_chosen_zone_and_is_audited(trainer, course):
    saved = create_sessions(
        {
            "course_id": course.id,
            "timezone": "Europe/Zurich",
            "starts_at": "2030-07-01T09:00",
            "ends_at": "2030-07-01T11:30",
            "registration_deadline": "2030-06-30T12:00",
            "capacity": "12",
            "location": "Basel B2",
        },
        trainer,
    )
    s = saved.session
    assert s.starts_at == datetime(2030, 7, 1, 7, 0, tzinfo=UTC)  # CEST is UTC+2
    assert s.ends_at == datetime(2030, 7, 1, 9, 30, tzinfo=UTC)
    assert s.registration_deadline == datetime(2030, 6, 30, 10, 0, tzinfo=UTC)
    assert [i.user_id for i in s.instructors] == [trainer.id]  # defaults to the author
    assert s.uid.endswith("@cadre") and s.sequence == 0 and s.status == "scheduled"
    [row] = audit_rows("training_session", s.id, "create")
    assert row.after["instructor_ids"] == [trainer.id] and row.after["capacity"] == 12
    assert row.after["starts_at"] == "2030-07-01T07:00:00Z"


INVALID = [
    ({"course_id": None}, "course_id"),
    ({"course_id": 99999}, "course_id"),
    ({"starts_at": "tomorrow"}, "starts_at"),
    ({"ends_at": "2030-07-01T08:00"}, "ends_at"),
    ({"ends_at": "2030-07-09T09:00"}, "ends_at"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": "many"}, "capacity"),
    ({"location": "", "online_url": ""}, "location"),
    ({"online_url": "javascript:alert(1)"}, "online_url"),
    ({"registration_deadline": "2030-07-02T09:00"}, "registration_deadline"),
    ({"instructor_ids": [99999]}, "instructor_ids"),
    ({"starts_at": "2030-03-31T02:30", "ends_at": "2030-03-31T04:00"}, "starts_at"),  # skipped hour
    ({"repeat": "daily", "occurrences": 3}, "repeat"),
    ({"repeat": "weekly", "occurrences": 53}, "occurrences"),
]


def test_validation(trainer, course):
    valid = {
        "course_id": course.id,
        "timezone": "Europe/Zurich",
        "starts_at": "2030-07-01T09:00",
        "ends_at": "2030-07-01T11:00",
        "capacity": 5,
        "location": "Basel B2",
    }
    for change, field in INVALID:
        with pytest.raises(Invalid) as exc:
            create_sessions({**valid, **change}, trainer)
        assert field in exc.value.errors, (change, exc.value.errors)
    with pytest.raises(Forbidden):
        create_sessions(valid, UserFactory(roles=["manager"]))
    assert count(TrainingSession) == 0


def test_edit_bumps_sequence_notifies_and_audits_each_field(trainer, course):
    s = schedule(trainer, course)
    people = [UserFactory() for _ in range(2)]
    for p in people:
        register(s.id, p)
    update_session(s.id, {"notes": "Bring safety shoes"}, trainer)
    assert db.session.get(TrainingSession, s.id).sequence == 0  # notes do not move it
    assert notifications(people[0].id, "session_changed") == []

    new_start = s.starts_at + timedelta(days=1)
    saved = update_session(
        s.id,
        {
            "starts_at": new_start.isoformat(),
            "ends_at": (new_start + timedelta(hours=2)).isoformat(),
        },
        trainer,
    )
    assert saved.session.sequence == 1 and saved.session.uid == s.uid
    for p in people:
        [note] = notifications(p.id, "session_changed")
        assert note.url == f"/sessions/{s.id}"
    update = audit_rows("training_session", s.id, "update")[-1]
    assert update.before["sequence"] == 0 and update.after["sequence"] == 1
    assert update.after["starts_at"] != update.before["starts_at"]

    update_session(s.id, {"location": "basel b3"}, trainer)
    assert db.session.get(TrainingSession, s.id).sequence == 2


def test_capacity_below_the_booked_seats_is_refused_and_more_seats_promote(trainer, course):
    s = schedule(trainer, course, capacity=1)
    first, second = UserFactory(), UserFactory()
    register(s.id, first)
    register(s.id, second)
    assert _reg(s, second).status == "waitlisted"
    update_session(s.id, {"capacity": 2}, trainer)
    assert _reg(s, second).status == "registered"
    assert notifications(second.id, "session_promoted")
    with pytest.raises(Invalid) as exc:
        update_session(s.id, {"capacity": 1}, trainer)
    assert "capacity" in exc.value.errors


def test_cancel_keeps_the_session_and_notifies_everyone(trainer, course):
    s = schedule(trainer, course, capacity=1)
    seat, waiting = UserFactory(), UserFactory()
    register(s.id, seat)
    register(s.id, waiting)
    cancel_session(s.id, "Trainer ill", trainer)
    s = db.session.get(TrainingSession, s.id)
    assert (s.status, s.cancel_reason, s.sequence) == ("cancelled", "Trainer ill", 1)
    assert s.cancelled_at is not None
    for p in (seat, waiting):
        [note] = notifications(p.id, "session_cancelled")
        assert "Trainer ill" in note.body
    [row] = audit_rows("training_session", s.id, "cancel")
    assert row.before["status"] == "scheduled" and row.after["status"] == "cancelled"
    cancel_session(s.id, None, trainer)  # twice: nothing more happens
    assert len(audit_rows("training_session", s.id, "cancel")) == 1
    with pytest.raises(Conflict):
        update_session(s.id, {"capacity": 3}, trainer)
    with pytest.raises(Conflict):
        register(s.id, UserFactory())


# --- series and conflicts ------------------------------------------------------------------


def test_series_keep_the_local_time_across_the_clock_change(trainer, course):
    saved = create_sessions(
        {
            "course_id": course.id,
            "timezone": "Europe/Zurich",
            "starts_at": "2030-03-19T09:00",  # two weeks before summer time starts (31 March)
            "ends_at": "2030-03-19T10:00",
            "registration_deadline": "2030-03-18T09:00",
            "capacity": 4,
            "location": "Basel B2",
            "repeat": "weekly",
            "occurrences": 4,
        },
        trainer,
    )
    sessions = db.session.scalars(select(TrainingSession).order_by(TrainingSession.starts_at)).all()
    assert len(saved.sessions) == len(sessions) == 4
    assert len({s.uid for s in sessions}) == 4 and len({s.series_id for s in sessions}) == 1
    zurich = ZoneInfo("Europe/Zurich")
    local = [s.starts_at.astimezone(zurich) for s in sessions]
    assert [(d.day, d.hour) for d in local] == [(19, 9), (26, 9), (2, 9), (9, 9)]
    assert [s.starts_at.hour for s in sessions] == [8, 8, 7, 7]  # UTC moves, local does not
    assert all(s.starts_at - s.registration_deadline == timedelta(days=1) for s in sessions)
    assert len(audit_rows("training_session", action="create")) == 4

    # Monthly: the day is clamped to the month's last (31 Jan, 28 Feb, 31 Mar).
    monthly = create_sessions(
        {
            "course_id": course.id,
            "timezone": "UTC",
            "starts_at": "2031-01-31T09:00",
            "ends_at": "2031-01-31T10:00",
            "capacity": 4,
            "online_url": "https://meet.example.com/x",
            "repeat": "monthly",
            "occurrences": 3,
        },
        trainer,
    )
    assert [(m.starts_at.month, m.starts_at.day) for m in monthly.sessions] == [
        (1, 31),
        (2, 28),
        (3, 31),
    ]


def test_double_booked_instructor_and_room_warn_but_save(trainer, course):
    first = schedule(trainer, course, location="Basel B2")
    other = UserFactory(roles=["trainer"], name="Otto Other")
    start = first.starts_at + timedelta(hours=1)
    data = {
        "course_id": course.id,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": 3,
    }
    room = create_sessions({**data, "location": "BASEL b2", "instructor_ids": [other.id]}, other)
    assert len(room.warnings) == 1 and "room" in room.warnings[0]
    teacher = create_sessions({**data, "location": "Leeds 1"}, trainer)
    assert [w for w in teacher.warnings if "Tina Trainer already teaches" in w]
    later = first.starts_at + timedelta(hours=3, minutes=1)  # after all three
    free = create_sessions(
        {
            **data,
            "location": "Basel B2",
            "starts_at": later.isoformat(),
            "ends_at": (later + timedelta(hours=1)).isoformat(),
        },
        trainer,
    )
    assert free.warnings == [] and count(TrainingSession) == 4


# --- booking, waitlist, promotion ----------------------------------------------------------


def test_full_session_waitlists_and_a_cancelled_seat_promotes_the_first(trainer, course):
    s = schedule(trainer, course, capacity=2)
    a, b, c, d = (UserFactory() for _ in range(4))
    for p in (a, b, c, d):
        register(s.id, p)
    assert [_reg(s, p).status for p in (a, b, c, d)] == [
        "registered",
        "registered",
        "waitlisted",
        "waitlisted",
    ]
    assert (_reg(s, c).waitlist_position, _reg(s, d).waitlist_position) == (1, 2)
    assert register(s.id, c).created is False  # booking twice changes nothing

    cancel_registration(s.id, a.id, a)
    assert _reg(s, a).status == "cancelled"
    promoted = _reg(s, c)
    assert promoted.status == "registered" and promoted.promoted_at is not None
    [note] = notifications(c.id, "session_promoted")
    assert note.title.startswith("You have a seat") and note.url == f"/sessions/{s.id}"
    assert _reg(s, d).status == "waitlisted" and notifications(d.id, "session_promoted") == []
    assert [r.action for r in audit_rows("session_registration", promoted.id)] == [
        "register",
        "promote",
    ]

    # Re-booking after cancelling reuses the row, now at the back of the queue.
    again = register(s.id, a)
    assert again.created and again.registration.id == _reg(s, a).id
    assert (again.registration.status, again.registration.waitlist_position) == ("waitlisted", 3)
    assert count(SessionRegistration) == 4
    detail = session_detail(s.id, d)
    assert (detail.taken, detail.waiting, detail.my_place) == (2, 2, 1)


def test_booking_closes_at_the_deadline_except_for_walk_ins(trainer, course):
    s = schedule(trainer, course, days=2, registration_deadline=at(-0.5).isoformat())
    learner = UserFactory()
    with pytest.raises(Conflict):
        register(s.id, learner)
    booking = register(s.id, trainer, {"user_id": learner.id})  # the trainer adds a walk-in
    assert booking.registration.status == "registered"
    [note] = notifications(learner.id, "session_registered")
    assert "Tina Trainer" in note.title


def test_self_booking_needs_self_enrol_or_an_open_enrollment(trainer, course):
    course.self_enroll = False
    db.session.commit()
    s = schedule(trainer, course)
    learner, assigned = UserFactory(), UserFactory()
    EnrollmentFactory(user=assigned, course=course, status="assigned")
    with pytest.raises(Forbidden):
        register(s.id, learner)
    assert register(s.id, assigned).registration.status == "registered"


def test_managers_book_only_their_direct_reports(trainer, course):
    s = schedule(trainer, course)
    manager = UserFactory(roles=["manager"])
    report, stranger = UserFactory(manager_id=manager.id), UserFactory()
    register(s.id, manager, {"user_id": report.id})
    assert _reg(s, report).registered_by_id == manager.id
    with pytest.raises(Forbidden):
        register(s.id, manager, {"user_id": stranger.id})
    with pytest.raises(Forbidden):
        register(s.id, UserFactory(), {"user_id": stranger.id})
    with pytest.raises(Forbidden):
        cancel_registration(s.id, stranger.id, manager)
    cancel_registration(s.id, report.id, manager)
    assert _reg(s, report).status == "cancelled"


def test_overlapping_booking_warns(trainer, course):
    first = schedule(trainer, course)
    start = first.starts_at + timedelta(minutes=30)
    second = schedule(
        UserFactory(roles=["trainer"]), course, location="Elsewhere", starts_at=start.isoformat()
    )
    learner = UserFactory()
    assert register(first.id, learner).warnings == []
    [warning] = register(second.id, learner).warnings
    assert "overlapping" in warning


# --- attendance and sign-off ---------------------------------------------------------------


def _past_session(trainer, course, people):
    s = schedule(trainer, course, days=-0.2, hours=2)
    for p in people:
        register(s.id, trainer, {"user_id": p.id})
    return s


def test_sign_off_completes_present_learners_and_issues_their_certificates(app, trainer, course):
    present, absent, assigned = (UserFactory() for _ in range(3))
    open_enrollment = EnrollmentFactory(user=assigned, course=course, status="in_progress")
    s = _past_session(trainer, course, [present, absent, assigned])
    with pytest.raises(Invalid) as exc:  # everyone must be marked first
        sign_off(s.id, trainer, "password", {str(present.id): "present"})
    assert "attendance" in exc.value.errors
    mark_attendance(s.id, {str(present.id): "present", str(absent.id): "absent"}, trainer)

    done = sign_off(s.id, trainer, "password", {str(assigned.id): "present"})
    run_queued_jobs(app)

    assert (done.status, done.signed_off_by_id) == ("completed", trainer.id)
    made = db.session.scalar(select(Enrollment).where(Enrollment.user_id == present.id))
    assert (made.status, made.source, made.cycle) == ("completed", "session", 1)
    assert db.session.get(Enrollment, open_enrollment.id).status == "completed"
    assert db.session.scalar(select(Enrollment).where(Enrollment.user_id == absent.id)) is None
    certified = set(db.session.scalars(select(Certification.user_id)))
    assert certified == {present.id, assigned.id}
    assert _reg(s, present).enrollment_id == made.id
    [sig] = manifestations_for("training_session", s.id)
    assert sig.meaning == "Trainer sign-off" and sig.valid is True
    assert audit_rows("enrollment", made.id, "create")[0].reason.startswith("attended session")
    with pytest.raises(Conflict):
        mark_attendance(s.id, {str(absent.id): "present"}, trainer)


def test_sign_off_with_modules_still_completes_by_attendance(app, trainer, course):
    ModuleFactory(course=course, position=1)
    learner = UserFactory()
    s = _past_session(trainer, course, [learner])
    sign_off(s.id, trainer, "password", {learner.id: "present"})
    run_queued_jobs(app)
    assert db.session.scalar(select(Certification.user_id)) == learner.id


def test_wrong_signature_password_changes_nothing(trainer, course):
    learner = UserFactory()
    s = _past_session(trainer, course, [learner])
    before = count(SessionRegistration, SessionRegistration.attendance.is_not(None))
    with pytest.raises(Invalid) as exc:
        sign_off(s.id, trainer, "wrong", {str(learner.id): "present"})
    assert "password" in exc.value.errors
    db.session.expire_all()
    assert db.session.get(TrainingSession, s.id).status == "scheduled"
    assert count(SessionRegistration, SessionRegistration.attendance.is_not(None)) == before == 0
    assert count(ESignature) == 0 and count(Enrollment) == 0


def test_who_may_sign_and_when(trainer, course):
    learner = UserFactory()
    future = schedule(trainer, course)
    with pytest.raises(Conflict):
        mark_attendance(future.id, {}, trainer)
    s = _past_session(trainer, course, [learner])
    other_trainer = UserFactory(roles=["trainer"])
    with pytest.raises(Forbidden):
        sign_off(s.id, other_trainer, "password", {learner.id: "absent"})
    with pytest.raises(Invalid):
        mark_attendance(s.id, {"999": "present"}, trainer)
    with pytest.raises(Invalid):
        mark_attendance(s.id, {str(learner.id): "asleep"}, trainer)
    admin = UserFactory(roles=["admin"])
    sign_off(s.id, admin, "password", {learner.id: "absent"})
    assert db.session.get(TrainingSession, s.id).status == "completed"
    with pytest.raises(Conflict):
        cancel_session(s.id, None, trainer)


def test_sessions_between_counts_seats_for_a_calendar(trainer, course):
    s = schedule(trainer, course, capacity=3)
    schedule(trainer, course, days=40)
    learner = UserFactory()
    register(s.id, learner)
    rows = sessions_between(at(0), at(30), viewer=learner)
    assert [(r.session.id, r.taken, r.seats_left, r.my_status) for r in rows] == [
        (s.id, 1, 2, "registered")
    ]
    mine = sessions_between(at(0), at(60), SessionFilters(booked_by=learner.id))
    assert [r.session.id for r in mine] == [s.id]
