"""Idempotency-Key on API POSTs: a retry gets the first answer and writes nothing more."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.api.models import IdempotencyKey
from app.extensions import db
from app.learning import enrollments as enrollment_service
from app.learning.models import Certification, Course, Enrollment
from app.platform.audit import AuditLog
from app.platform.jobs import run_job
from tests.conftest import BACKEND, csrf
from tests.helpers.api import bearer, make_token
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def keyed(token: str, key: str) -> dict:
    return {**bearer(token), "Idempotency-Key": key}


def same_answer(first, again) -> None:
    assert again.status_code == first.status_code
    assert again.get_data() == first.get_data()
    assert again.headers.get("Location") == first.headers.get("Location")
    assert again.mimetype == first.mimetype
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers


@pytest.fixture
def learner(app):
    return UserFactory(roles=["employee"])


@pytest.fixture
def trainer_token(app):
    return make_token(UserFactory(roles=["trainer"]), ("read", "write"))


def _enroll(client, learner, course, headers, **extra):
    return _post_enroll(client, learner.id, course.id, headers, **extra)


def _post_enroll(client, learner_id: int, course_id: int, headers, **extra):
    """The enrolment POST by ids (threads have no app context to load a factory object in)."""
    return client.post(
        f"/api/training/users/{learner_id}/enroll",
        json={"course_id": course_id, **extra},
        headers=headers,
    )


def test_a_retried_enrolment_gets_the_first_answer_and_writes_once(client, learner):
    course = CourseFactory()
    headers = keyed(make_token(learner, ("read", "write")), "enrol-1")

    first = _enroll(client, learner, course, headers, due_date="2031-03-01")
    again = _enroll(client, learner, course, headers, due_date="2031-03-01")

    assert first.status_code == 201, first.get_json()
    same_answer(first, again)  # 201 again, where a plain retry answers 200
    assert count(Enrollment, Enrollment.user_id == learner.id) == 1
    assert count(AuditLog, AuditLog.entity == "enrollment") == 1


def test_a_retried_certification_issues_one_certificate(client, learner, trainer_token):
    course = CourseFactory(validity_months=12)
    body = {
        "user_id": learner.id,
        "course_id": course.id,
        "reason": "External course",
        "signature_password": "password",
    }
    headers = keyed(trainer_token, "cert-1")

    first = client.post("/api/training/certifications", json=body, headers=headers)
    again = client.post("/api/training/certifications", json=body, headers=headers)

    assert first.status_code == 201, first.get_json()
    assert first.headers["Location"].endswith(f"/certifications/{first.get_json()['id']}")
    same_answer(first, again)
    assert count(Certification) == 1


def test_a_retried_course_creation_creates_one_course(client):
    token = make_token(UserFactory(roles=["admin"]), ("read", "write"))
    body = {"code": "SOP-12", "title": "SOP 12"}

    first = client.post("/api/training/courses", json=body, headers=keyed(token, "course-1"))
    again = client.post("/api/training/courses", json=body, headers=keyed(token, "course-1"))
    without_key = client.post("/api/training/courses", json=body, headers=bearer(token))

    assert first.status_code == 201, first.get_json()
    same_answer(first, again)
    assert without_key.status_code != 201  # a plain retry is refused as a duplicate code
    assert count(Course) == 1


def test_a_refused_request_is_answered_the_same_on_retry(client, learner):
    token = make_token(learner, ("read", "write"))
    headers = keyed(token, "bad-enrol")

    first = client.post(
        f"/api/training/users/{learner.id}/enroll", json={"course_id": 999}, headers=headers
    )
    CourseFactory(id=999)  # the course exists now, but the key holds the first answer
    again = client.post(
        f"/api/training/users/{learner.id}/enroll", json={"course_id": 999}, headers=headers
    )

    assert first.status_code in (404, 422) and first.mimetype == "application/problem+json"
    same_answer(first, again)
    assert count(Enrollment) == 0


def test_the_same_key_with_another_body_is_a_422_and_writes_nothing(client, learner):
    first_course, other_course = CourseFactory(), CourseFactory()
    headers = keyed(make_token(learner, ("read", "write")), "enrol-2")

    assert _enroll(client, learner, first_course, headers).status_code == 201
    resp = _enroll(client, learner, other_course, headers)

    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert "Idempotency-Key" in resp.get_json()["title"]
    assert count(Enrollment, Enrollment.course_id == other_course.id) == 0


def test_the_same_key_on_another_path_is_a_422(client, learner):
    token = make_token(UserFactory(roles=["admin"]), ("read", "write"))
    course = CourseFactory()
    assert _enroll(client, learner, course, keyed(token, "k")).status_code == 201

    resp = client.post(
        "/api/training/courses", json={"course_id": course.id}, headers=keyed(token, "k")
    )
    assert resp.status_code == 422
    assert count(Course) == 1


def test_a_second_request_while_the_first_is_served_is_a_409(app, client, learner, monkeypatch):
    course = CourseFactory()
    headers = keyed(make_token(learner, ("read", "write")), "slow")
    started, release = threading.Event(), threading.Event()
    real = enrollment_service.enroll_person

    def slow_enroll(*args, **kwargs):
        started.set()
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(enrollment_service, "enroll_person", slow_enroll)
    answers = {}
    ids = (learner.id, course.id)
    first = threading.Thread(
        target=lambda: answers.setdefault("first", _post_enroll(client, *ids, headers))
    )
    first.start()
    try:
        assert started.wait(30)
        busy = _enroll(app.test_client(), learner, course, headers)
    finally:
        release.set()
        first.join(30)

    assert busy.status_code == 409 and busy.mimetype == "application/problem+json"
    assert busy.headers["Retry-After"]
    assert answers["first"].status_code == 201
    same_answer(answers["first"], _enroll(client, learner, course, headers))
    assert count(Enrollment) == 1


@pytest.mark.skipif(BACKEND != "postgresql", reason="concurrent writers need PostgreSQL")
def test_concurrent_requests_with_one_key_write_once(app, learner):
    course = CourseFactory()
    headers = keyed(make_token(learner, ("read", "write")), "race")
    barrier = threading.Barrier(6)
    answers = []
    ids = (learner.id, course.id)

    def post():
        client = app.test_client()
        barrier.wait(10)
        answers.append(_post_enroll(client, *ids, headers))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    statuses = sorted(a.status_code for a in answers)
    assert len(statuses) == 6 and set(statuses) <= {201, 409}, statuses
    created = [a for a in answers if a.status_code == 201]
    assert len({a.get_data() for a in created}) == 1
    assert count(Enrollment) == 1
    assert count(AuditLog, AuditLog.entity == "enrollment") == 1


def test_keys_are_kept_24_hours_then_the_request_runs_anew(client, learner, pinned_clock):
    course = CourseFactory()
    headers = keyed(make_token(learner, ("read", "write")), "daily")
    first = _enroll(client, learner, course, headers)
    assert first.status_code == 201

    pinned_clock.shift(timedelta(hours=23, minutes=59))
    same_answer(first, _enroll(client, learner, course, headers))

    pinned_clock.shift(timedelta(minutes=2))
    fresh = _enroll(client, learner, course, headers)
    assert fresh.status_code == 200  # run again: already enrolled
    assert "Idempotent-Replayed" not in fresh.headers
    assert count(Enrollment) == 1


def test_the_scheduled_purge_deletes_keys_older_than_24_hours(client, learner, pinned_clock):
    course, other = CourseFactory(), CourseFactory()
    token = make_token(learner, ("read", "write"))
    _enroll(client, learner, course, keyed(token, "old"))
    pinned_clock.shift(timedelta(hours=20))
    _enroll(client, learner, other, keyed(token, "young"))
    pinned_clock.shift(timedelta(hours=5))

    assert run_job("api.purge_idempotency_keys") == {"purged": 1}

    assert db.session.scalars(select(IdempotencyKey.key)).all() == ["young"]


def test_keys_are_scoped_per_credential(client, learner):
    course = CourseFactory()
    mine = make_token(learner, ("read", "write"))
    other_person = UserFactory(roles=["employee"])
    theirs = make_token(other_person, ("read", "write"))
    my_second_token = make_token(learner, ("read", "write"))

    mine_first = _enroll(client, learner, course, keyed(mine, "shared-key"))
    their_answer = _enroll(client, other_person, course, keyed(theirs, "shared-key"))
    second_token = _enroll(client, learner, course, keyed(my_second_token, "shared-key"))

    assert mine_first.status_code == 201
    # Another credential's key of the same name neither collides nor reads my answer.
    assert their_answer.status_code == 201 and "Idempotent-Replayed" not in their_answer.headers
    assert their_answer.get_json()["id"] != mine_first.get_json()["id"]
    assert second_token.status_code == 200 and "Idempotent-Replayed" not in second_token.headers
    assert count(IdempotencyKey) == 3


def test_a_browser_session_has_its_own_keys(client, auth, learner):
    course = CourseFactory()
    auth.login(learner)
    headers = {"X-CSRFToken": csrf(client, "/home"), "Idempotency-Key": "browser-1"}

    first = _enroll(client, learner, course, headers)
    again = _enroll(client, learner, course, headers)

    assert first.status_code == 201, first.get_json()
    same_answer(first, again)
    assert db.session.scalar(select(IdempotencyKey.credential)) == f"user:{learner.id}"


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_a_400(client, learner, key):
    course = CourseFactory()
    headers = keyed(make_token(learner, ("read", "write")), key)
    resp = _enroll(client, learner, course, headers)
    assert resp.status_code == 400 and resp.mimetype == "application/problem+json"
    assert count(Enrollment) == 0


def test_refusals_before_the_use_case_keep_no_key(client, learner):
    course = CourseFactory()
    read_only = make_token(learner, ("read",))
    resp = _enroll(client, learner, course, keyed(read_only, "k"))
    assert resp.status_code == 403
    assert count(IdempotencyKey) == 0


def test_a_server_error_releases_the_key_for_a_retry(app, client, learner, monkeypatch):
    course = CourseFactory()
    headers = keyed(make_token(learner, ("read", "write")), "flaky")
    real = enrollment_service.enroll_person
    monkeypatch.setattr(
        enrollment_service, "enroll_person", lambda *a, **k: 1 / 0
    )  # a bug or an outage mid-request
    assert _enroll(client, learner, course, headers).status_code == 500
    assert count(IdempotencyKey) == 0

    monkeypatch.setattr(enrollment_service, "enroll_person", real)
    assert _enroll(client, learner, course, headers).status_code == 201
    assert count(Enrollment) == 1


def test_other_methods_ignore_the_header(client):
    token = make_token(UserFactory(roles=["admin"]), ("read", "write"))
    course = CourseFactory()
    resp = client.get(f"/api/training/courses/{course.id}", headers=keyed(token, "k"))
    assert resp.status_code == 200 and "Idempotent-Replayed" not in resp.headers
    assert count(IdempotencyKey) == 0
