"""Sign-out and deactivation really end sessions; idle sessions expire."""

import time

from app.extensions import db
from app.people.auth import end_all_sessions
from tests.people.factories import UserFactory


def _copy_cookie(src, dst):
    cookie = src.get_cookie("cadre_session", domain="cadre.test")
    dst.set_cookie("cadre_session", cookie.value, domain="cadre.test")


def test_a_copied_cookie_stops_working_after_logout(app, client, auth):
    user = UserFactory()
    auth.login(user)
    thief = app.test_client()
    _copy_cookie(client, thief)
    assert thief.get("/home").status_code == 200
    auth.logout()
    resp = thief.get("/home")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_ending_all_sessions_signs_out_every_browser(app, client, auth):
    user = UserFactory()
    auth.login(user)
    other = app.test_client()
    from tests.conftest import Auth

    Auth(other).login(user)
    end_all_sessions(user.id)
    db.session.commit()
    assert client.get("/home").status_code == 302
    assert other.get("/home").status_code == 302


def test_idle_session_expires(app, client, auth):
    from datetime import timedelta

    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=1)
    user = UserFactory()
    auth.login(user)
    assert client.get("/home").status_code == 200
    time.sleep(2.1)
    assert client.get("/home").status_code == 302


# --- the absolute lifetime -------------------------------------------------------------------


def _age_sign_in(client, hours: float) -> None:
    """Make the signed cookie say the person signed in `hours` ago (real time, as it counts)."""
    with client.session_transaction() as cookie:
        cookie["signed_in_at"] -= int(hours * 3600)


def test_a_session_ends_12_hours_after_sign_in_however_active(app, client, auth):
    user = UserFactory(roles=["trainer"])
    auth.login(user)
    thief = app.test_client()
    _copy_cookie(client, thief)
    _age_sign_in(client, 11.9)
    assert client.get("/home").status_code == 200
    _age_sign_in(client, 0.2)
    ended = client.get("/courses?q=gmp")
    assert ended.status_code == 302
    assert "/login?next=/courses" in ended.headers["Location"]
    page = client.get("/login").get_data(as_text=True)
    assert "You were signed out: a session lasts 12 hours from sign-in." in page
    # Signed out for real: the session row is revoked, so a copy of the cookie is dead too.
    assert thief.get("/home").status_code == 302


def test_an_htmx_request_past_the_lifetime_is_sent_to_the_sign_in_page(client, auth):
    auth.login(UserFactory())
    _age_sign_in(client, 13)
    resp = client.get("/compliance", headers={"HX-Request": "true"})
    assert resp.status_code == 204 and "/login?next=" in resp.headers["HX-Redirect"]


def test_the_api_answers_401_once_the_session_is_past_its_lifetime(app, client, auth):
    auth.login(UserFactory(roles=["trainer"]))
    assert client.get("/api/v1/training/sessions").status_code == 200
    _age_sign_in(client, 12)
    resp = client.get("/api/v1/training/sessions")
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert "a session lasts 12 hours" in resp.get_json()["detail"]


def test_a_short_configured_lifetime_ends_the_session_in_real_time(app, client, auth):
    from datetime import timedelta

    app.config["SESSION_ABSOLUTE_LIFETIME"] = timedelta(seconds=1)
    auth.login(UserFactory())
    time.sleep(1.1)
    assert client.get("/home").status_code == 302
    assert "a session lasts 1 second from sign-in" in client.get("/login").get_data(as_text=True)


def test_moving_the_business_clock_does_not_end_a_session(client, auth, pinned_clock):
    from datetime import timedelta

    auth.login(UserFactory())
    pinned_clock.shift(timedelta(days=3))  # records' time, not the wire's
    assert client.get("/home").status_code == 200


def test_a_cookie_without_a_sign_in_instant_is_not_a_session(client, auth):
    auth.login(UserFactory())
    with client.session_transaction() as cookie:
        del cookie["signed_in_at"]
    assert client.get("/home").status_code == 302


# --- password changes end the other sessions ---------------------------------------------------

NEW = "violet-harbour-93-lamp"


def _api_get(client, headers=None):
    return client.get("/api/v1/training/sessions", headers=headers or {})


def test_changing_your_password_ends_your_other_sessions_and_keeps_this_one_and_tokens(
    app, client, auth
):
    from tests.conftest import Auth, csrf
    from tests.helpers.api import bearer, make_token

    user = UserFactory(roles=["trainer"])
    auth.login(user)
    other = app.test_client()
    Auth(other).login(user)
    token = make_token(user)
    resp = client.post(
        "/account/password",
        data={
            "csrf_token": csrf(client, "/account/password"),
            "current_password": "password",
            "new_password": NEW,
            "confirm_password": NEW,
        },
    )
    assert resp.status_code == 302
    home = client.get("/home")
    assert home.status_code == 200  # the session that changed it
    assert "You were signed out everywhere else." in home.get_data(as_text=True)
    assert other.get("/home").status_code == 302  # every other one is over
    assert _api_get(app.test_client(), bearer(token)).status_code == 200  # tokens stay


def test_an_admin_reset_ends_every_session_of_the_person_and_is_audited(app, client, auth):
    from sqlalchemy import select

    from app.platform.audit import AuditLog
    from tests.conftest import Auth, csrf
    from tests.helpers.api import bearer, make_token

    person = UserFactory(roles=["trainer"], name="Reset Me", email="reset.me@example.com")
    phone, laptop = app.test_client(), app.test_client()
    Auth(phone).login(person)
    Auth(laptop).login(person)
    token = make_token(person)
    admin = UserFactory(roles=["admin"])
    auth.login(admin)
    url = f"/admin/users/{person.id}/edit"
    form = {
        "csrf_token": csrf(client, url),
        "email": person.email,
        "name": person.name,
        "password": NEW,
        "roles": "trainer",
        "locale": "en",
        "timezone": "UTC",
        "seller_tier": "",
        "change_reason": "Forgot their password",
    }
    assert client.post(url, data=form).status_code == 302
    assert phone.get("/home").status_code == 302
    assert laptop.get("/home").status_code == 302
    assert client.get("/home").status_code == 200  # the admin's own session is untouched
    assert _api_get(app.test_client(), bearer(token)).status_code == 200  # nothing else revoked
    row = db.session.scalar(
        select(AuditLog)
        .where(AuditLog.entity == "user", AuditLog.action == "update")
        .order_by(AuditLog.id.desc())
        .limit(1)
    )
    assert row.after["other sessions ended"] is True and row.after["password changed"] is True


def test_a_sign_in_checked_against_the_old_password_cannot_outlive_a_reset(app):
    from app.people import auth as auth_svc
    from app.people import users

    person = UserFactory()
    admin = UserFactory(roles=["admin"])
    checked = auth_svc.authenticate(person.email, "password", "127.0.0.1")  # old password
    users.update_user(
        person.id, {"email": person.email, "name": person.name, "password": NEW}, actor=admin
    )
    token = auth_svc.start_login_session(checked, "127.0.0.1", "race")
    assert auth_svc.load_session_user(str(person.id), token) is None


# --- a session that must change its password -------------------------------------------------


def test_a_session_that_must_change_its_password_may_not_use_the_api(app, client, auth):
    from app.people import users
    from tests.conftest import csrf

    admin = UserFactory(roles=["admin"])
    person = users.create_user(
        {
            "email": "new.trainer@example.com",
            "name": "New Trainer",
            "password": NEW,
            "roles": ["trainer"],
        },
        actor=admin,
    )
    auth.login(person, NEW)
    assert client.get("/home").headers["Location"].startswith("/account/password")
    token = csrf(client, "/account/password")
    for resp in (
        _api_get(client),
        client.post("/api/v1/training/sessions", json={}, headers={"X-CSRFToken": token}),
    ):
        assert resp.status_code == 403 and resp.mimetype == "application/problem+json"
        assert resp.get_json()["title"] == "Password change required"
        assert "/account/password" in resp.get_json()["detail"]
    client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": NEW,
            "new_password": "amber-kettle-47-orbit",
            "confirm_password": "amber-kettle-47-orbit",
        },
    )
    assert _api_get(client).status_code == 200
