"""Bearer-token and session authentication of the API, scopes, roles and CSRF."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.learning.models import Course
from app.people.tokens import create_api_token, revoke_api_token
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.helpers.api import bearer, make_token
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory

COURSES = "/api/training/courses"
NEW = {"code": "GMP-101", "title": "GMP basics"}


def course_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Course))


def assert_401(resp):
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.get_json()["status"] == 401


def test_no_token_and_no_session_is_401_with_www_authenticate(client):
    assert_401(client.get(COURSES))
    assert_401(client.post(COURSES, json=NEW))
    assert course_count() == 0


def test_wrong_token_is_401(client, app):
    CourseFactory()
    for credential in ("cadre_" + "x" * 43, "not-even-ours", ""):
        resp = client.get(COURSES, headers={"Authorization": f"Bearer {credential}"})
        assert_401(resp)
    resp = client.get(COURSES, headers=bearer("cadre_nope"))
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]


def test_valid_token_reads(client, trainer_token):
    CourseFactory(title="Cleanroom gowning")
    resp = client.get(COURSES, headers=bearer(trainer_token))
    assert resp.status_code == 200
    assert [c["title"] for c in resp.get_json()["items"]] == ["Cleanroom gowning"]


def test_revoked_token_is_401(client, trainer):
    token, plaintext = create_api_token(trainer.id, "t", ["read"], actor=trainer)
    assert client.get(COURSES, headers=bearer(plaintext)).status_code == 200
    revoke_api_token(token.id, actor=None)
    assert_401(client.get(COURSES, headers=bearer(plaintext)))


def test_expired_token_is_401(client, expired_token):
    assert_401(client.get(COURSES, headers=bearer(expired_token)))


def test_deactivated_users_token_is_401(client, trainer, trainer_token):
    assert client.get(COURSES, headers=bearer(trainer_token)).status_code == 200
    trainer.active = False
    db.session.commit()
    assert_401(client.get(COURSES, headers=bearer(trainer_token)))


def test_read_scope_token_cannot_write(client, trainer):
    token = make_token(trainer, ("read",))
    resp = client.post(COURSES, json=NEW, headers=bearer(token))
    assert resp.status_code == 403
    assert resp.mimetype == "application/problem+json"
    assert "write" in resp.get_json()["detail"]
    assert 'error="insufficient_scope"' in resp.headers["WWW-Authenticate"]
    assert course_count() == 0


def test_employee_cannot_write_even_with_write_scope(client):
    employee = UserFactory(roles=["employee"])
    token = make_token(employee, ("read", "write", "admin"))
    resp = client.post(COURSES, json=NEW, headers=bearer(token))
    assert resp.status_code == 403
    assert resp.mimetype == "application/problem+json"
    assert course_count() == 0


def test_trainer_write_token_creates_course_with_location(client, trainer_token):
    resp = client.post(COURSES, json=NEW, headers=bearer(trainer_token))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["code"] == "GMP-101" and body["status"] == "draft"
    assert resp.headers["Location"].endswith(f"/api/training/courses/{body['id']}")
    again = client.get(resp.headers["Location"], headers=bearer(trainer_token))
    assert again.status_code == 200 and again.get_json()["title"] == "GMP basics"


def test_admin_scope_implies_write(client, trainer):
    token = make_token(trainer, ("admin",))
    assert client.post(COURSES, json=NEW, headers=bearer(token)).status_code == 201
    assert client.get(COURSES, headers=bearer(token)).status_code == 200


def test_write_scope_implies_read(client, trainer):
    token = make_token(trainer, ("write",))
    assert client.get(COURSES, headers=bearer(token)).status_code == 200


def test_session_write_needs_csrf_header(client, auth, trainer):
    auth.login(trainer)
    assert client.get(COURSES).status_code == 200  # reading needs no header
    resp = client.post(COURSES, json=NEW)
    assert resp.status_code == 400
    assert resp.mimetype == "application/problem+json"
    assert "X-CSRFToken" in resp.get_json()["detail"]
    assert course_count() == 0
    resp = client.post(COURSES, json=NEW, headers={"X-CSRFToken": "forged"})
    assert resp.status_code == 400
    assert course_count() == 0
    token = csrf(client, "/home")
    resp = client.post(COURSES, json=NEW, headers={"X-CSRFToken": token})
    assert resp.status_code == 201
    course_id = resp.get_json()["id"]
    url = f"{COURSES}/{course_id}"
    assert client.delete(url).status_code == 400
    assert client.put(url, json={"title": "x"}).status_code == 400
    assert db.session.get(Course, course_id).title == "GMP basics"
    assert client.delete(url, headers={"X-CSRFToken": token}).status_code == 204


def test_session_after_logout_is_401(client, auth, trainer):
    auth.login(trainer)
    assert client.get(COURSES).status_code == 200
    auth.logout()
    assert_401(client.get(COURSES))


def test_bearer_token_wins_over_session(client, auth):
    """A request with a bearer header acts as the token's owner, not the signed-in user."""
    auth.login(UserFactory(roles=["trainer"]))
    employee_token = make_token(UserFactory(roles=["employee"]), ("write",))
    resp = client.post(COURSES, json=NEW, headers=bearer(employee_token))
    assert resp.status_code == 403


def test_api_writes_are_audited_as_the_token_user(client, trainer, trainer_token):
    resp = client.post(COURSES, json=NEW, headers=bearer(trainer_token))
    course_id = resp.get_json()["id"]
    url = f"{COURSES}/{course_id}"
    assert (
        client.put(url, json={"title": "GMP basics 2"}, headers=bearer(trainer_token)).status_code
        == 200
    )
    assert client.delete(url, headers=bearer(trainer_token)).status_code == 204
    rows = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "course").order_by(AuditLog.id)
    ).all()
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert {r.actor_id for r in rows} == {trainer.id}
    assert all(trainer.email in r.actor_label for r in rows)
    assert all(r.entity_id == str(course_id) for r in rows)
    assert rows[1].before["title"] == "GMP basics" and rows[1].after["title"] == "GMP basics 2"
    assert all(r.request_id for r in rows)
