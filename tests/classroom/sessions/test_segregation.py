"""Segregation of duties on attendance (issue 16): nobody marks or signs off their own
attendance in a session, in the service, on the page or through the API; nothing is written.
Another instructor or an admin who holds no seat signs it off."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import ESignature
from app.classroom.attendance import mark_attendance, sign_off
from app.classroom.booking import register
from app.classroom.models import SessionRegistration, TrainingSession
from app.extensions import db
from app.learning.models import Enrollment
from app.people.sod import SelfApproval
from app.platform.audit import AuditLog
from tests.classroom.sessions.conftest import schedule
from tests.conftest import csrf
from tests.helpers.api import bearer, make_token
from tests.people.factories import UserFactory


def _written() -> tuple[int, int, int, int]:
    def n(model, *where):
        return db.session.scalar(select(func.count()).select_from(model).where(*where))

    return (
        n(ESignature),
        n(Enrollment),
        n(AuditLog),
        n(SessionRegistration, SessionRegistration.attendance.is_not(None)),
    )


@pytest.fixture
def seated_admin(app, trainer, course):
    """A session under way where an admin (who may sign off any session) holds a seat
    beside a learner."""
    admin = UserFactory(roles=["admin"], name="Ada Admin")
    learner = UserFactory(name="Lea Learner")
    s = schedule(trainer, course, days=-0.1, hours=1)
    for p in (admin, learner):
        register(s.id, trainer, {"user_id": p.id})
    return s, admin, learner


def _status(session_id: int) -> str:
    db.session.expire_all()
    return db.session.get(TrainingSession, session_id).status


def test_the_service_refuses_signing_off_a_session_one_sits_in(seated_admin, trainer):
    s, admin, learner = seated_admin
    marks = {str(admin.id): "present", str(learner.id): "present"}
    before = _written()
    with pytest.raises(SelfApproval, match="you hold a seat on this session"):
        sign_off(s.id, admin, "password", marks)
    with pytest.raises(SelfApproval, match="another person marks your attendance"):
        mark_attendance(s.id, {str(admin.id): "present"}, admin)
    assert _written() == before and _status(s.id) == "scheduled"
    mark_attendance(s.id, marks, trainer)
    assert sign_off(s.id, trainer, "password").status == "completed"


def test_the_page_refuses_signing_off_a_session_one_sits_in(client, auth, seated_admin, trainer):
    s, admin, learner = seated_admin
    mark_attendance(s.id, {str(admin.id): "present", str(learner.id): "present"}, trainer)
    auth.login(admin)
    token = csrf(client, f"/sessions/{s.id}")
    before = _written()
    own_mark = client.post(
        f"/sessions/{s.id}/attendance",
        data={"csrf_token": token, f"attendance-{admin.id}": "absent"},
        follow_redirects=True,
    )
    assert "another person marks your attendance" in own_mark.get_data(as_text=True)
    refused = client.post(
        f"/sessions/{s.id}/sign-off",
        data={"csrf_token": token, "signature_password": "password"},
        follow_redirects=True,
    )
    assert "Segregation of duties: you hold a seat on this session" in refused.get_data(
        as_text=True
    )
    assert _written() == before and _status(s.id) == "scheduled"

    auth.logout()
    auth.login(trainer)
    token = csrf(client, f"/sessions/{s.id}")
    done = client.post(
        f"/sessions/{s.id}/sign-off", data={"csrf_token": token, "signature_password": "password"}
    )
    assert done.status_code == 302 and _status(s.id) == "completed"


def test_the_api_refuses_signing_off_a_session_one_sits_in(client, seated_admin, trainer):
    s, admin, learner = seated_admin
    url = f"/api/v1/training/sessions/{s.id}/attendance"
    marks = {str(admin.id): "present", str(learner.id): "present"}
    mine = bearer(make_token(admin, ("read", "write")))
    before = _written()
    signed = {"attendance": marks, "sign": {"password": "password"}}
    resp = client.put(url, json=signed, headers=mine)
    assert resp.status_code == 403 and resp.mimetype == "application/problem+json"
    assert "you hold a seat on this session" in resp.get_json()["detail"]
    resp = client.put(url, json={"attendance": {str(admin.id): "present"}}, headers=mine)
    assert resp.status_code == 403
    assert _written() == before and _status(s.id) == "scheduled"

    theirs = bearer(make_token(trainer, ("read", "write")))
    resp = client.put(url, json=signed, headers=theirs)
    assert resp.status_code == 200 and resp.get_json()["status"] == "completed"
