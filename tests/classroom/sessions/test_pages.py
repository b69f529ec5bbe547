"""Session pages: who sees what, forms, booking, attendance (htmx and plain), sign-off."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.classroom.booking import register
from app.classroom.models import SessionRegistration, TrainingSession
from app.extensions import db
from app.learning.models import Enrollment
from app.platform.timefmt import zone
from tests.classroom.sessions.conftest import HX, at, schedule
from tests.conftest import csrf
from tests.helpers.api import ROLES
from tests.helpers.records import count
from tests.people.factories import UserFactory

MANAGERS = {"admin", "trainer", "hr"}


def _status(session, user) -> str | None:
    return db.session.scalar(
        select(SessionRegistration.status).where(
            SessionRegistration.session_id == session.id, SessionRegistration.user_id == user.id
        )
    )


def test_pages_role_matrix(client, auth, trainer, course):
    s = schedule(trainer, course, title="Gowning practice")
    for role in ROLES:
        auth.login(UserFactory(roles=[role]))
        index = client.get("/sessions")
        body = index.get_data(as_text=True)
        assert index.status_code == 200 and "Gowning practice" in body, role
        assert ("New session" in body) == (role in MANAGERS), role
        assert client.get(f"/sessions/{s.id}").status_code == 200, role
        expected = 200 if role in MANAGERS else 403
        assert client.get("/sessions/new").status_code == expected, role
        assert client.get(f"/sessions/{s.id}/edit").status_code == expected, role
        auth.logout()
    assert client.get("/sessions").status_code == 302  # signed out: to the login page


def test_create_page_errors_then_a_series(client, auth, trainer, course):
    auth.login(trainer)
    token = csrf(client, "/sessions/new")
    bad = client.post("/sessions/new", data={"csrf_token": token, "timezone": "Europe/Zurich"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "Required." in body and "Give a room" in body
    assert count(TrainingSession) == 0
    ok = client.post(
        "/sessions/new",
        data={
            "csrf_token": token,
            "course_id": str(course.id),
            "instructor_ids": [str(trainer.id)],
            "timezone": "Europe/Zurich",
            "starts_at": "2030-09-02T09:00",
            "ends_at": "2030-09-02T12:00",
            "location": "Basel B2",
            "capacity": "8",
            "repeat": "weekly",
            "occurrences": "3",
            "interval": "1",
        },
    )
    assert ok.status_code == 302
    sessions = db.session.scalars(select(TrainingSession).order_by(TrainingSession.id)).all()
    assert len(sessions) == 3 and sessions[0].starts_at.hour == 7  # 09:00 CEST
    page = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "3 sessions scheduled." in page and "Monday 02 September 2030, 09:00" in page


def test_edit_warns_about_the_room_and_cancel_keeps_the_session(client, auth, trainer, course):
    busy = schedule(trainer, course, location="Room 7")
    s = schedule(UserFactory(roles=["trainer"]), course, days=9, location="Room 1")
    auth.login(UserFactory(roles=["hr"]))
    token = csrf(client, f"/sessions/{s.id}/edit")
    form = client.get(f"/sessions/{s.id}/edit").get_data(as_text=True)
    assert 'value="Room 1"' in form
    start = busy.starts_at.astimezone(zone("UTC")).strftime("%Y-%m-%dT%H:%M")
    end = busy.ends_at.strftime("%Y-%m-%dT%H:%M")
    resp = client.post(
        f"/sessions/{s.id}/edit",
        data={
            "csrf_token": token,
            "course_id": str(course.id),
            "instructor_ids": [str(i.user_id) for i in s.instructors],
            "timezone": "UTC",
            "starts_at": start,
            "ends_at": end,
            "location": "room 7",
            "capacity": "10",
        },
        follow_redirects=True,
    )
    body = resp.get_data(as_text=True)
    assert "Session saved." in body and "is already booked" in body
    db.session.expire_all()
    assert db.session.get(TrainingSession, s.id).sequence == 1
    bad = client.post(f"/sessions/{s.id}/edit", data={"csrf_token": token, "capacity": "x"})
    assert bad.status_code == 422

    client.post(f"/sessions/{s.id}/cancel", data={"csrf_token": token, "reason": "Room flooded"})
    db.session.expire_all()
    s = db.session.get(TrainingSession, s.id)
    assert (s.status, s.cancel_reason) == ("cancelled", "Room flooded")
    assert client.get(f"/sessions/{s.id}/edit").status_code == 302


def test_booking_waitlist_and_cancelling_from_the_page(client, auth, trainer, course):
    s = schedule(trainer, course, capacity=1, title="Small class")
    first, second = UserFactory(), UserFactory()
    auth.login(first)
    token = csrf(client, f"/sessions/{s.id}")
    page = client.post(
        f"/sessions/{s.id}/register", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "You are booked." in page and "seat booked" in page
    assert "Small class" in client.get("/sessions").get_data(as_text=True)  # my bookings
    auth.logout()

    auth.login(second)
    token = csrf(client, f"/sessions/{s.id}")
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert "Join the waitlist" in page
    client.post(f"/sessions/{s.id}/register", data={"csrf_token": token})
    assert _status(s, second) == "waitlisted"
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert "number 1 on the waitlist" in page
    auth.logout()

    auth.login(first)
    token = csrf(client, f"/sessions/{s.id}")
    client.post(f"/sessions/{s.id}/registrations/{first.id}/cancel", data={"csrf_token": token})
    assert (_status(s, first), _status(s, second)) == ("cancelled", "registered")


def test_managers_book_their_reports_from_the_page(client, auth, trainer, course):
    s = schedule(trainer, course)
    manager = UserFactory(roles=["manager"])
    report = UserFactory(manager_id=manager.id, email="rita@example.com", name="Rita Report")
    stranger = UserFactory(email="sam@example.com")
    auth.login(manager)
    token = csrf(client, f"/sessions/{s.id}")
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert 'value="rita@example.com"' in page and "sam@example.com" not in page
    client.post(
        f"/sessions/{s.id}/register", data={"csrf_token": token, "person": "rita@example.com"}
    )
    refused = client.post(
        f"/sessions/{s.id}/register",
        data={"csrf_token": token, "person": "sam@example.com"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "direct reports" in refused
    unknown = client.post(
        f"/sessions/{s.id}/register", data={"csrf_token": token, "person": "nobody@example.com"}
    )
    assert unknown.status_code == 422
    assert (_status(s, report), _status(s, stranger)) == ("registered", None)
    assert "Rita Report" in client.get(f"/sessions/{s.id}").get_data(as_text=True)


def test_attendance_with_and_without_htmx_then_signed_off(client, auth, trainer, course):
    s = schedule(trainer, course, days=-0.1, hours=1)
    present, absent = UserFactory(name="Pia Present"), UserFactory(name="Abe Absent")
    for p in (present, absent):
        register(s.id, trainer, {"user_id": p.id})
    auth.login(trainer)
    token = csrf(client, f"/sessions/{s.id}")
    fragment = client.post(
        f"/sessions/{s.id}/attendance",
        data={"csrf_token": token, f"attendance-{present.id}": "present"},
        headers=HX,
    )
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body
    assert 'id="attendance"' in body and "Attendance saved." in body and "1 of 2 not marked" in body
    plain = client.post(
        f"/sessions/{s.id}/attendance",
        data={"csrf_token": token, f"attendance-{absent.id}": "absent"},
    )
    assert plain.status_code == 302 and plain.headers["Location"].endswith("#attendance")

    wrong = client.post(
        f"/sessions/{s.id}/sign-off", data={"csrf_token": token, "signature_password": "nope"}
    )
    assert wrong.status_code == 422 and "password is not correct" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TrainingSession, s.id).status == "scheduled"

    signed = client.post(
        f"/sessions/{s.id}/sign-off",
        data={"csrf_token": token, "signature_password": "password"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "is completed" in signed and "Trainer sign-off" in signed
    statuses = dict(db.session.execute(select(Enrollment.user_id, Enrollment.status)).all())
    assert statuses == {present.id: "completed"}


def test_list_query_count_does_not_grow(client, auth, trainer, course, count_queries):
    auth.login(UserFactory(roles=["employee"]))

    def queries():
        with count_queries() as statements:
            resp = client.get("/sessions")
            assert resp.status_code == 200
        return len(statements)

    first = schedule(trainer, course)
    register(first.id, UserFactory())
    few = queries()
    for n in range(4):
        other = UserFactory(roles=["trainer"])
        s = schedule(other, course, days=8 + n, instructor_ids=[other.id, trainer.id])
        register(s.id, UserFactory())
    assert queries() == few


def test_filters_narrow_the_list(client, auth, trainer, course):
    schedule(trainer, course, location="Basel B2", title="Near")
    schedule(trainer, course, days=20, location="Leeds L1", title="Far")
    auth.login(UserFactory())
    body = client.get("/sessions?location=leeds", headers=HX).get_data(as_text=True)
    assert "Far" in body and "Near" not in body and "<html" not in body
    day = (at(15) + timedelta(days=1)).date().isoformat()
    body = client.get(f"/sessions?from={day}").get_data(as_text=True)
    assert "Far" in body and "Near" not in body
