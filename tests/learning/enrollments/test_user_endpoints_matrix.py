"""Who may read, enrol and record progress for whom, on the four user endpoints."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.learning.models import Enrollment, Progress
from tests.conftest import csrf
from tests.helpers.api import bearer, make_token
from tests.learning.enrollments.conftest import count, course_with_modules
from tests.learning.factories import EnrollmentFactory
from tests.people.factories import UserFactory

# Who is asking, relative to the learner whose records are asked for.
VIEWERS = {
    "self": None,
    "manager_of": ["manager"],
    "other_manager": ["manager"],
    "hr": ["hr"],
    "qa": ["qa"],
    "admin": ["admin"],
    "trainer": ["trainer"],
    "employee_other": ["employee"],
    "seller_other": ["seller"],
}
READERS = {"self", "manager_of", "hr", "qa", "admin"}
ENROLLERS = {"self", "manager_of", "hr", "admin", "trainer"}
PROGRESS_WRITERS = {"self", "admin"}


@pytest.fixture
def world(app):
    boss = UserFactory(roles=["manager"])
    learner = UserFactory(roles=["employee"], manager=boss)
    course, (text,) = course_with_modules(("text",))
    other_course, _ = course_with_modules(("text",))
    EnrollmentFactory(user=learner, course=course)
    return {"learner": learner, "boss": boss, "text": text, "other_course": other_course}


def _viewer(world, who):
    if who == "self":
        return world["learner"]
    if who == "manager_of":
        return world["boss"]
    return UserFactory(roles=VIEWERS[who])


def _call(client, endpoint, world, headers):
    base = f"/api/training/users/{world['learner'].id}"
    if endpoint == "read":
        return client.get(base, headers=headers)
    if endpoint == "results":
        return client.get(f"{base}/results", headers=headers)
    if endpoint == "enroll":
        body = {"course_id": world["other_course"].id}
        return client.post(f"{base}/enroll", json=body, headers=headers)
    body = {"module_id": world["text"].id, "percent": 40}
    return client.put(f"{base}/progress", json=body, headers=headers)


EXPECTED = {
    "read": (READERS, 200),
    "results": (READERS, 200),
    "enroll": (ENROLLERS, 201),
    "progress": (PROGRESS_WRITERS, 200),
}


@pytest.mark.parametrize("endpoint", list(EXPECTED))
@pytest.mark.parametrize("who", list(VIEWERS))
def test_role_matrix_by_token(client, world, who, endpoint):
    viewer = _viewer(world, who)
    headers = bearer(make_token(viewer, ("read", "write")))
    resp = _call(client, endpoint, world, headers)
    allowed, ok = EXPECTED[endpoint]
    expected = ok if who in allowed else 403
    assert resp.status_code == expected, (who, endpoint, resp.get_json())
    if expected == 403:
        assert resp.mimetype == "application/problem+json"
    _assert_writes(endpoint, world, expected != 403)


def _assert_writes(endpoint, world, happened: bool):
    db.session.expire_all()
    learner = world["learner"]
    if endpoint == "enroll":
        assert count(Enrollment, Enrollment.user_id == learner.id) == (2 if happened else 1)
    if endpoint == "progress":
        assert count(Progress) == (1 if happened else 0)


@pytest.mark.parametrize("endpoint", list(EXPECTED))
@pytest.mark.parametrize("who", ["self", "manager_of", "employee_other"])
def test_role_matrix_by_browser_session(client, auth, world, who, endpoint):
    auth.login(_viewer(world, who))
    headers = {"X-CSRFToken": csrf(client, "/home")}
    resp = _call(client, endpoint, world, headers)
    allowed, ok = EXPECTED[endpoint]
    assert resp.status_code == (ok if who in allowed else 403), (who, endpoint)


@pytest.mark.parametrize("endpoint", list(EXPECTED))
def test_anonymous_is_401(client, world, endpoint):
    resp = _call(client, endpoint, world, {})
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    _assert_writes(endpoint, world, False)


@pytest.mark.parametrize("endpoint", ["enroll", "progress"])
def test_read_only_token_cannot_write_even_for_oneself(client, world, endpoint):
    headers = bearer(make_token(world["learner"], ("read",)))
    resp = _call(client, endpoint, world, headers)
    assert resp.status_code == 403
    assert 'scope="write"' in resp.headers["WWW-Authenticate"]
    _assert_writes(endpoint, world, False)


def test_read_returns_enrollments_with_progress_and_certifications(client, world):
    from app.learning.models import Certification
    from app.platform import clock

    learner = world["learner"]
    enrollment = db.session.scalars(select(Enrollment)).one()
    db.session.add(
        Certification(
            user_id=learner.id,
            course_id=enrollment.course_id,
            enrollment_id=enrollment.id,
            number="CERT-1",
            verification_code="v-1",
            issued_at=clock.now(),
        )
    )
    db.session.commit()
    headers = bearer(make_token(world["boss"], ("read",)))
    body = client.get(f"/api/training/users/{learner.id}", headers=headers).get_json()
    assert body["user"]["id"] == learner.id
    (row,) = body["enrollments"]
    assert row["course"]["id"] == enrollment.course_id
    assert (row["status"], row["progress_percent"], row["overdue"]) == ("assigned", 0, False)
    (cert,) = body["certifications"]
    assert (cert["number"], cert["status"]) == ("CERT-1", "active")


def test_unknown_user_is_404_for_hr_and_403_for_others(client, world):
    hr = UserFactory(roles=["hr"])
    resp = client.get("/api/training/users/987654", headers=bearer(make_token(hr)))
    assert resp.status_code == 404
    someone = UserFactory()
    resp = client.get("/api/training/users/987654", headers=bearer(make_token(someone)))
    assert resp.status_code == 403
