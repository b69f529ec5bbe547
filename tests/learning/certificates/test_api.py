"""POST/GET /api/training/certifications: roles, scopes, validation, shape."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.learning.certificates import issue_certificate_for_enrollment
from app.learning.models import Certification
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.helpers.api import ROLES, bearer, make_token
from tests.learning.certificates.conftest import completed_enrollment, count
from tests.people.factories import UserFactory

ISSUERS = {"admin", "hr", "trainer"}
READERS = {"admin", "hr", "qa", "trainer"}


def _body(learner, course, **extra):
    return {
        "user_id": learner.id,
        "course_id": course.id,
        "reason": "External course",
        "signature_password": "password",
        **extra,
    }


@pytest.mark.parametrize("role", ROLES)
def test_create_role_matrix(client, learner, course, role):
    token = make_token(UserFactory(roles=[role]), ("read", "write"))
    resp = client.post(
        "/api/training/certifications", json=_body(learner, course), headers=bearer(token)
    )
    if role in ISSUERS:
        assert resp.status_code == 201, resp.get_json()
        assert resp.headers["Location"].endswith(f"/api/training/certifications/{resp.json['id']}")
        assert resp.json["number"].startswith("CAD-M-")
        assert resp.json["reason"] == "External course"
    else:
        assert resp.status_code == 403
        assert resp.mimetype == "application/problem+json"
        assert count(Certification) == 0


def test_create_needs_the_write_scope(client, learner, course):
    token = make_token(UserFactory(roles=["trainer"]), ("read",))
    resp = client.post(
        "/api/training/certifications", json=_body(learner, course), headers=bearer(token)
    )
    assert resp.status_code == 403 and count(Certification) == 0


def test_create_without_login_is_401(client, learner, course):
    resp = client.post("/api/training/certifications", json=_body(learner, course))
    assert resp.status_code == 401


def test_create_by_browser_session_needs_csrf_header(client, auth, learner, course):
    trainer = UserFactory(roles=["trainer"])
    auth.login(trainer)
    resp = client.post("/api/training/certifications", json=_body(learner, course))
    assert resp.status_code == 400
    token = csrf(client, "/home")
    resp = client.post(
        "/api/training/certifications",
        json=_body(learner, course),
        headers={"X-CSRFToken": token},
    )
    assert resp.status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": None}, "reason"),
        ({"user_id": "7"}, "user_id"),
        ({"user_id": 999999}, "user_id"),
        ({"course_id": None}, "course_id"),
        ({"course_id": 999999}, "course_id"),
        ({"issued_at": "yesterday"}, "issued_at"),
        ({"issued_at": "2024-05-01", "expires_at": "2024-04-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_create_bad_input_is_a_422_problem_with_field_errors(
    client, learner, course, change, field
):
    token = make_token(UserFactory(roles=["hr"]), ("read", "write"))
    body = {**_body(learner, course), **change}
    resp = client.post("/api/training/certifications", json=body, headers=bearer(token))
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    assert field in resp.json["errors"]
    assert count(Certification) == 0
    assert db.session.query(AuditLog).filter_by(entity="certification").count() == 0


def test_create_with_dates_and_not_json(client, learner, course):
    token = make_token(UserFactory(roles=["admin"]), ("read", "write"))
    body = _body(learner, course, issued_at="2024-05-01", expires_at="2025-05-01T00:00:00+02:00")
    resp = client.post("/api/training/certifications", json=body, headers=bearer(token))
    assert resp.status_code == 201
    assert resp.json["issued_at"] == "2024-05-01T00:00:00Z"
    assert resp.json["expires_at"] == "2025-04-30T22:00:00Z"
    # Dated beyond the back-dating window: not valid until QA approves it.
    assert resp.json["status"] == "pending_approval"
    assert resp.json["approval_status"] == "pending"
    qa = make_token(UserFactory(roles=["qa"]), ("read", "write"))
    decided = client.post(
        f"/api/training/certifications/{resp.json['id']}/approve",
        json={"signature_password": "password"},
        headers=bearer(qa),
    )
    assert decided.status_code == 200, decided.get_json()
    assert decided.json["status"] == "expired"
    resp = client.post("/api/training/certifications", data="nope", headers=bearer(token))
    assert resp.status_code == 400


@pytest.mark.parametrize("role", ROLES)
def test_read_role_matrix(client, course, role):
    owner = UserFactory()
    cert = issue_certificate_for_enrollment(completed_enrollment(owner, course).id)
    token = make_token(UserFactory(roles=[role]), ("read",))
    resp = client.get(f"/api/training/certifications/{cert.id}", headers=bearer(token))
    if role in READERS:
        assert resp.status_code == 200
        assert resp.json["number"] == cert.number
    else:
        assert resp.status_code == 403


def test_owner_and_manager_read_their_certificate(client, course):
    boss = UserFactory(roles=["manager"])
    owner = UserFactory(manager_id=boss.id)
    cert = issue_certificate_for_enrollment(completed_enrollment(owner, course, score=91.0).id)
    for who in (owner, boss):
        resp = client.get(
            f"/api/training/certifications/{cert.id}", headers=bearer(make_token(who))
        )
        assert resp.status_code == 200
        body = resp.json
        assert body["user_id"] == owner.id and body["course_code"] == "GMP-101"
        assert body["expires_at"] == "2026-03-14T09:30:00Z"  # valid 12 months
        assert body["score"] == 91.0 and body["enrollment_id"] is not None
        assert body["issued_at"] == "2025-03-14T09:30:00Z"
        assert body["verification_url"].endswith(f"/verify/{cert.verification_code}")
        assert body["pdf_url"].endswith(f"/certificates/{cert.id}/pdf")


def test_read_unknown_is_404(client):
    token = make_token(UserFactory(roles=["admin"]))
    resp = client.get("/api/training/certifications/424242", headers=bearer(token))
    assert resp.status_code == 404
    assert resp.mimetype == "application/problem+json"


def test_create_without_the_signers_password_is_a_422_and_writes_nothing(client, learner, course):
    token = make_token(UserFactory(roles=["hr"]), ("read", "write"))
    body = {**_body(learner, course), "signature_password": "wrong"}
    resp = client.post("/api/training/certifications", json=body, headers=bearer(token))
    assert resp.status_code == 422 and "password" in resp.json["errors"]
    assert count(Certification) == 0
