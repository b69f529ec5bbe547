"""Account controls: defaults, password rules, forced change at first sign-in, own change."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.people import users as svc
from app.people.models import User
from app.people.passwords import password_problems
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.people.factories import UserFactory

GOOD = "amber-kettle-47-orbit"


def test_defaults_slow_down_after_5_failures_up_to_15_minutes_and_end_sessions(app):
    from app.config import load_config

    cfg = load_config()
    assert cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"] == 5
    assert cfg["LOGIN_THROTTLE_FIRST_DELAY_SECONDS"] == 1  # 1, 2, 4 ... seconds
    assert cfg["LOGIN_THROTTLE_MAX_DELAY_SECONDS"] == 15 * 60
    assert cfg["PERMANENT_SESSION_LIFETIME"].total_seconds() == 15 * 60  # idle
    assert cfg["SESSION_ABSOLUTE_LIFETIME"].total_seconds() == 12 * 3600
    assert cfg["PASSWORD_MIN_LENGTH"] == 12


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short-1", "Between 12"),
        ("Password1234", "too common"),
        ("qwertyuiop123", "too common"),
        ("aaaaaaaaaaaaaaa", "too common"),
        ("dana.scully-2026!", "email address"),
        ("x" * 201, "Between 12"),
    ],
)
def test_weak_passwords_are_refused(app, password, problem):
    assert problem in " ".join(password_problems(password, email="dana.scully@example.com"))


def test_a_strong_password_passes(app):
    assert password_problems(GOOD, email="dana@example.com") == []


def _create_with_password(admin, email="new.hire@example.com"):
    return svc.create_user({"email": email, "name": "New Hire", "password": GOOD}, actor=admin)


def test_admin_form_refuses_a_breached_password(client, auth):
    auth.login(UserFactory(roles=["admin"]))
    resp = client.post(
        "/admin/users/new",
        data={
            "csrf_token": csrf(client, "/admin/users/new"),
            "email": "weak@example.com",
            "name": "Weak",
            "password": "password1234",
            "roles": "employee",
            "locale": "en",
            "timezone": "UTC",
            "seller_tier": "",
        },
    )
    assert resp.status_code == 422 and "too common" in resp.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "weak@example.com")) is None


def test_account_created_by_an_admin_must_choose_its_own_password(client, auth):
    user = _create_with_password(UserFactory(roles=["admin"]))
    assert user.must_change_password
    auth.login(user, GOOD)
    home = client.get("/home")
    assert home.status_code == 302 and "/account/password" in home.headers["Location"]
    hx = client.get("/compliance", headers={"HX-Request": "true"})
    assert "/account/password" in hx.headers["HX-Redirect"]
    resp = client.post(
        "/account/password?next=/certificates",
        data={
            "csrf_token": csrf(client, "/account/password"),
            "current_password": GOOD,
            "new_password": "violet-harbour-93-lamp",
            "confirm_password": "violet-harbour-93-lamp",
        },
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/certificates")
    assert client.get("/home").status_code == 200
    db.session.expire_all()
    changed = db.session.get(User, user.id)
    assert not changed.must_change_password and changed.password_changed_at is not None
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.reason == "changed own password").limit(1)
    )
    assert row.entity_id == str(user.id) and "password_hash" not in (row.after or {})


def test_demo_and_self_chosen_passwords_are_not_forced(app):
    assert not UserFactory().must_change_password


@pytest.mark.parametrize(
    ("current", "new", "confirm", "field_text"),
    [
        ("password", "violet-harbour-93-lamp", "violet-harbour-93-lamp-x", "Does not match"),
        ("password", "123456789012", "123456789012", "too common"),
    ],
)
def test_own_change_rerenders_with_field_errors(client, auth, current, new, confirm, field_text):
    user = UserFactory()
    auth.login(user)
    resp = client.post(
        "/account/password",
        data={
            "csrf_token": csrf(client, "/account/password"),
            "current_password": current,
            "new_password": new,
            "confirm_password": confirm,
        },
    )
    assert resp.status_code == 422 and field_text in resp.get_data(as_text=True)


def test_wrong_current_passwords_count_toward_the_lockout(client, auth, app):
    app.config["LOGIN_THROTTLE_FIRST_DELAY_SECONDS"] = 60  # a slow machine stays inside the wait
    user = UserFactory()
    auth.login(user)
    token = csrf(client, "/account/password")
    data = {"csrf_token": token, "current_password": "nope", "new_password": GOOD}
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert client.post("/account/password", data=data).status_code == 422
    data["current_password"] = "password"
    refused = client.post("/account/password", data=data)
    assert refused.status_code == 429
    assert "Try again in 60 seconds" in refused.get_data(as_text=True)
