"""/api/v1/training/sessions: CRUD, bookings, attendees, attendance, problem+json errors."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.classroom.models import TrainingSession
from app.classroom.sessions import session_row
from app.extensions import db
from app.learning.models import Enrollment
from tests.classroom.sessions.conftest import at, schedule
from tests.helpers.api import ROLES, bearer, make_token
from tests.helpers.jobs import run_queued_jobs
from tests.helpers.records import audit_rows
from tests.people.factories import UserFactory

URL = "/api/v1/training/sessions"
MANAGERS = {"admin", "trainer", "hr"}


def _h(user):
    return bearer(make_token(user, ("read", "write")))


def _body(course, **extra):
    start = at(7)
    return {
        "course_id": course.id,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": 2,
        "location": "Basel B2",
        **extra,
    }


def _problem(resp, status: int):
    assert resp.status_code == status, resp.get_json()
    assert resp.mimetype == "application/problem+json"
    return resp.json


def test_api_role_matrix(client, trainer, course):
    for role in ROLES:
        user = UserFactory(roles=[role])
        if role in ("admin", "trainer"):
            body = _body(course)  # instructors default to the author
        else:
            body = _body(course, instructor_ids=[trainer.id])
        listed = client.get(URL, headers=_h(user))
        assert listed.status_code == 200, role
        created = client.post(URL, json=body, headers=_h(user))
        if role in MANAGERS:
            assert created.status_code == 201, (role, created.get_json())
            assert created.headers["Location"].endswith(f"{URL}/{created.json['id']}")
        else:
            _problem(created, 403)


def test_api_crud(client, trainer, course):
    h = _h(trainer)
    created = client.post(
        URL, json=_body(course, repeat="weekly", occurrences=2, title="Gowning"), headers=h
    )
    assert created.status_code == 201, created.json
    item = created.json
    assert item["title"] == "Gowning" and item["seats_left"] == 2 and item["warnings"] == []
    assert len(item["series_session_ids"]) == 2 and item["instructor_ids"] == [trainer.id]
    assert item["starts_at"].endswith("Z") and item["status"] == "scheduled"
    url = f"{URL}/{item['id']}"

    got = client.get(url, headers=h).json
    assert got["uid"] == item["uid"] and got["sequence"] == 0
    put = client.put(url, json={"location": "Basel B3", "capacity": 5}, headers=h)
    assert put.status_code == 200 and put.json["sequence"] == 1 and put.json["capacity"] == 5

    page = client.get(URL, query_string={"course_id": course.id, "per_page": 1}, headers=h)
    assert page.json["total"] == 2 and len(page.json["items"]) == 1
    assert 'rel="next"' in page.headers["Link"]
    later = client.get(URL, query_string={"from": at(10).date().isoformat()}, headers=h).json
    assert [s["id"] for s in later["items"]] == [item["series_session_ids"][1]]
    mine = client.get(URL, query_string={"instructor_id": trainer.id}, headers=h).json
    assert mine["total"] == 2

    assert "capacity" in _problem(client.put(url, json={"capacity": 0}, headers=h), 422)["errors"]
    assert (
        "from" in _problem(client.get(URL, query_string={"from": "soon"}, headers=h), 422)["errors"]
    )
    _problem(client.post(URL, json={"course_id": "x"}, headers=h), 422)
    _problem(client.post(URL, data="nope", headers=h), 400)
    _problem(client.get(f"{URL}/9999", headers=h), 404)
    _problem(client.put(f"{URL}/9999", json={"capacity": 3}, headers=h), 404)

    assert client.delete(url, json={"reason": "No room"}, headers=h).status_code == 204
    cancelled = client.get(url, headers=h).json
    assert cancelled["status"] == "cancelled" and cancelled["cancel_reason"] == "No room"
    _problem(client.put(url, json={"capacity": 3}, headers=h), 409)
    assert audit_rows("training_session", item["id"], "cancel")


def test_api_bookings_attendees_and_signed_attendance(app, client, trainer, course):
    past = schedule(trainer, course, days=-0.1, hours=1, capacity=1)
    future = schedule(trainer, course, capacity=1)
    learner, waiting, other = UserFactory(), UserFactory(), UserFactory()
    regs = f"{URL}/{future.id}/registrations"

    booked = client.post(regs, headers=_h(learner))
    assert booked.status_code == 201 and booked.json["status"] == "registered"
    assert client.post(regs, json={}, headers=_h(learner)).status_code == 200  # already booked
    queued = client.post(regs, json={"user_id": waiting.id}, headers=_h(trainer))
    assert queued.status_code == 201 and queued.json["waitlist_position"] == 1
    _problem(client.post(regs, json={"user_id": other.id}, headers=_h(learner)), 403)
    _problem(client.post(f"{URL}/9999/registrations", headers=_h(learner)), 404)
    _problem(client.post(f"{URL}/{past.id}/registrations", headers=_h(learner)), 409)

    seen = client.get(f"{URL}/{future.id}/attendees", headers=_h(trainer)).json
    assert {r["user"]["id"]: r["status"] for r in seen["items"]} == {
        learner.id: "registered",
        waiting.id: "waitlisted",
    }
    own = client.get(f"{URL}/{future.id}/attendees", headers=_h(learner)).json
    assert [r["user"]["id"] for r in own["items"]] == [learner.id]

    assert client.delete(f"{regs}/{learner.id}", headers=_h(learner)).status_code == 204
    assert client.get(f"{URL}/{future.id}", headers=_h(waiting)).json["my_status"] == "registered"
    _problem(client.delete(f"{regs}/{other.id}", headers=_h(trainer)), 404)

    attendance = f"{URL}/{past.id}/attendance"
    walk_in = client.post(
        f"{URL}/{past.id}/registrations", json={"user_id": learner.id}, headers=_h(trainer)
    )
    assert walk_in.status_code == 201
    h = _h(trainer)
    early = client.put(f"{URL}/{future.id}/attendance", json={"attendance": {}}, headers=h)
    _problem(early, 409)
    assert (
        "attendance"
        in _problem(client.put(attendance, json={"attendance": ["x"]}, headers=_h(trainer)), 422)[
            "errors"
        ]
    )
    marked = client.put(
        attendance, json={"attendance": {str(learner.id): "present"}}, headers=_h(trainer)
    )
    assert marked.status_code == 200 and marked.json["items"][0]["attendance"] == "present"
    _problem(client.put(attendance, json={"attendance": {}}, headers=_h(learner)), 403)
    wrong = client.put(attendance, json={"sign": {"password": "nope"}}, headers=_h(trainer))
    assert "password" in _problem(wrong, 422)["errors"]
    db.session.expire_all()
    assert db.session.get(TrainingSession, past.id).status == "scheduled"

    signed = client.put(attendance, json={"sign": {"password": "password"}}, headers=_h(trainer))
    assert signed.status_code == 200, signed.json
    assert signed.json["status"] == "completed" and signed.json["signed_off_at"]
    run_queued_jobs(app)
    enrollment = db.session.scalar(select(Enrollment).where(Enrollment.user_id == learner.id))
    assert enrollment.status == "completed" and enrollment.source == "session"
    _problem(client.delete(f"{URL}/{past.id}", headers=_h(trainer)), 409)
    assert session_row(past.id).session.status == "completed"
