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
