"""POST /api/training/users/<id>/enroll: idempotent, validated, and the service behind it."""

from __future__ import annotations

from app.extensions import db
from app.learning.models import Enrollment
from tests.helpers.api import bearer, make_token
from tests.learning.enrollments.conftest import audit_rows, count, course_with_modules
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory


def test_enrolling_twice_returns_the_same_enrollment(client, learner):
    course, _ = course_with_modules()
    headers = bearer(make_token(learner, ("read", "write")))
    url = f"/api/training/users/{learner.id}/enroll"

    body = {"course_id": course.id, "due_date": "2031-03-01"}
    first = client.post(url, json=body, headers=headers)
    again = client.post(url, json={"course_id": course.id}, headers=headers)

    assert first.status_code == 201, first.get_json()
    assert again.status_code == 200, again.get_json()
    assert first.get_json()["id"] == again.get_json()["id"]
    body = again.get_json()
    assert body["course"]["id"] == course.id
    assert body["status"] == "assigned" and body["source"] == "self"
    assert body["due_date"] == "2031-03-01" and body["progress_percent"] == 0
    assert count(Enrollment, Enrollment.user_id == learner.id) == 1
    assert len(audit_rows("enrollment", "create")) == 1


def test_a_manager_enrols_a_direct_report_with_source_manager(client):
    boss = UserFactory(roles=["manager"])
    report = UserFactory(manager=boss)
    course = CourseFactory(self_enroll=False)
    resp = client.post(
        f"/api/training/users/{report.id}/enroll",
        json={"course_id": course.id},
        headers=bearer(make_token(boss, ("write",))),
    )
    assert resp.status_code == 201, resp.get_json()
    enrollment = db.session.get(Enrollment, resp.get_json()["id"])
    assert (enrollment.user_id, enrollment.source, enrollment.assigned_by_id) == (
        report.id,
        "manager",
        boss.id,
    )


def _post(client, user, body, scopes=("write",)):
    return client.post(
        f"/api/training/users/{user.id}/enroll",
        json=body,
        headers=bearer(make_token(user, scopes)),
    )


def test_unknown_course_and_bad_dates_are_422_and_write_nothing(client, learner):
    course = CourseFactory()
    for body, field in [
        ({"course_id": 999999}, "course_id"),
        ({"course_id": "abc"}, "course_id"),
        ({}, "course_id"),
        ({"course_id": course.id, "due_date": "31/12/2030"}, "due_date"),
        ({"course_id": course.id, "due_date": "2030-02-30"}, "due_date"),
        ({"course_id": course.id, "due_date": 20300101}, "due_date"),
        ({"course_id": course.id, "source": "wizard"}, "source"),
    ]:
        resp = _post(client, learner, body)
        assert resp.status_code == 422, (body, resp.get_json())
        assert resp.mimetype == "application/problem+json"
        assert field in resp.get_json()["errors"], (body, resp.get_json())
    assert count(Enrollment) == 0


def test_unpublished_course_is_409(client, learner):
    for status in ("draft", "retired"):
        course = CourseFactory(status=status)
        resp = _post(client, learner, {"course_id": course.id})
        assert resp.status_code == 409, resp.get_json()
    assert count(Enrollment) == 0


def test_self_enrolment_only_where_the_course_allows_it(client, learner):
    assigned_only = CourseFactory(self_enroll=False)
    resp = _post(client, learner, {"course_id": assigned_only.id})
    assert resp.status_code == 403
    assert "assigned only" in resp.get_json()["detail"]
    # Learners cannot dress a self-enrolment up as something else.
    open_course = CourseFactory()
    resp = _post(client, learner, {"course_id": open_course.id, "source": "kpi"})
    assert resp.status_code == 422 and "source" in resp.get_json()["errors"]
    assert count(Enrollment) == 0


def test_deactivated_person_cannot_be_enrolled(client):
    hr = UserFactory(roles=["hr"])
    gone = UserFactory(active=False)
    course = CourseFactory()
    resp = client.post(
        f"/api/training/users/{gone.id}/enroll",
        json={"course_id": course.id},
        headers=bearer(make_token(hr, ("write",))),
    )
    assert resp.status_code == 404
    assert count(Enrollment) == 0


def test_unknown_person_is_404_for_hr_and_403_for_a_learner(client, learner):
    course = CourseFactory()
    hr = UserFactory(roles=["hr"])
    for who, expected in [(hr, 404), (learner, 403)]:
        resp = client.post(
            "/api/training/users/424242/enroll",
            json={"course_id": course.id},
            headers=bearer(make_token(who, ("write",))),
        )
        assert resp.status_code == expected
