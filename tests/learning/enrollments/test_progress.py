"""PUT /api/training/users/<id>/progress: the progress rules and the completion rule."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.learning.models import Enrollment, Progress
from app.platform.audit import AuditLog
from tests.helpers.api import bearer, make_token
from tests.learning.enrollments.conftest import audit_rows, count, course_with_modules
from tests.learning.factories import EnrollmentFactory


@pytest.fixture
def setup(app, learner):
    course, modules = course_with_modules(("text", "video", "quiz"))
    enrollment = EnrollmentFactory(user=learner, course=course)
    headers = bearer(make_token(learner, ("read", "write")))
    return enrollment, modules, headers


def _put(client, user_id, headers, **body):
    return client.put(f"/api/training/users/{user_id}/progress", json=body, headers=headers)


def test_percent_never_decreases_and_time_adds_up(client, learner, setup):
    enrollment, (_, video, _), headers = setup
    first = _put(
        client,
        learner.id,
        headers,
        module_id=video.id,
        percent=60,
        position=120.5,
        time_spent_seconds=90,
    )
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert (body["status"], body["percent"], body["position"]) == ("in_progress", 60, 120.5)
    assert body["enrollment"]["status"] == "in_progress"

    later = _put(
        client,
        learner.id,
        headers,
        module_id=video.id,
        percent=20,
        position=30,
        time_spent_seconds=10,
    )
    assert later.status_code == 200
    body = later.get_json()
    assert body["percent"] == 60  # a replay or a rewind never loses progress
    assert body["position"] == 30.0  # but the player resumes where the learner is now
    assert body["time_spent_seconds"] == 100
    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).started_at is not None


@pytest.mark.parametrize(
    "body,field",
    [
        ({"percent": -1}, "percent"),
        ({"percent": 101}, "percent"),
        ({"percent": "50"}, "percent"),
        ({"percent": 50.5}, "percent"),
        ({"status": "done"}, "status"),
        ({"position": -3}, "position"),
        ({"time_spent_seconds": -5}, "time_spent_seconds"),
        ({"module_id": 999999}, "module_id"),
        ({"module_id": "one"}, "module_id"),
        ({"module_id": None}, "module_id"),
    ],
)
def test_bad_input_is_422_and_writes_nothing(client, learner, setup, body, field):
    enrollment, (text, _, _), headers = setup
    payload = {"module_id": text.id, **body}
    before = count(AuditLog)
    resp = _put(client, learner.id, headers, **payload)
    assert resp.status_code == 422, resp.get_json()
    assert resp.mimetype == "application/problem+json"
    assert field in resp.get_json()["errors"]
    assert count(Progress) == 0
    assert count(AuditLog) == before
    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).status == "assigned"


def test_a_quiz_cannot_be_completed_by_hand(client, learner, setup):
    _, (_, _, quiz), headers = setup
    for body in ({"status": "completed"}, {"percent": 100}):
        resp = _put(client, learner.id, headers, module_id=quiz.id, **body)
        assert resp.status_code == 422
        assert "status" in resp.get_json()["errors"]
    assert count(Progress) == 0


def test_module_of_another_course(client, learner, setup):
    enrollment, _, headers = setup
    _, (elsewhere,) = course_with_modules(("text",))
    # Named against an enrollment of another course: invalid input.
    resp = _put(
        client, learner.id, headers, module_id=elsewhere.id, enrollment_id=enrollment.id, percent=10
    )
    assert resp.status_code == 422 and "module_id" in resp.get_json()["errors"]
    # Derived from the module alone: the learner is not enrolled in that course.
    resp = _put(client, learner.id, headers, module_id=elsewhere.id, percent=10)
    assert resp.status_code == 409
    assert count(Progress) == 0


def test_enrollment_of_someone_else_is_refused(client, learner, setup):
    _, (text, _, _), headers = setup
    other = EnrollmentFactory(course=text.course)
    resp = _put(client, learner.id, headers, module_id=text.id, enrollment_id=other.id, percent=5)
    assert resp.status_code == 422 and "enrollment_id" in resp.get_json()["errors"]
    assert count(Progress) == 0


def test_completing_every_required_text_module_completes_the_enrollment(client, learner):
    course, (one, two, extra) = course_with_modules(
        ("text", "text", "text"), required=[True, True, False]
    )
    enrollment = EnrollmentFactory(user=learner, course=course)
    headers = bearer(make_token(learner, ("write",)))

    resp = _put(client, learner.id, headers, module_id=one.id, status="completed")
    assert resp.get_json()["enrollment"]["status"] == "in_progress"
    assert resp.get_json()["enrollment"]["progress_percent"] == 50

    resp = _put(client, learner.id, headers, module_id=two.id, percent=100)
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "completed"
    record = resp.get_json()["enrollment"]
    assert record["status"] == "completed" and record["progress_percent"] == 100
    db.session.expire_all()
    done = db.session.get(Enrollment, enrollment.id)
    assert done.status == "completed" and done.completed_at is not None
    updates = [a for a in audit_rows("enrollment", "update") if a.entity_id == str(done.id)]
    assert [a.reason for a in updates] == ["started", "completion rule met"]
    completion = updates[1:]
    assert completion[0].after["status"] == "completed"
    assert completion[0].reason == "completion rule met"
    assert completion[0].actor_id == learner.id

    # Replaying a completed module changes nothing and writes no new audit row.
    before = count(AuditLog)
    resp = _put(client, learner.id, headers, module_id=two.id, status="completed")
    assert resp.status_code == 200
    assert count(AuditLog) == before


def test_not_enrolled_is_409(client, learner):
    _, (text,) = course_with_modules(("text",))
    resp = _put(
        client, learner.id, bearer(make_token(learner, ("write",))), module_id=text.id, percent=10
    )
    assert resp.status_code == 409
    assert count(Progress) == 0
