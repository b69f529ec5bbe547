"""Sign-in: same answer for unknown emails, rate limits, safe `next`, fresh session ids."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.people.models import LoginAttempt
from tests.conftest import csrf
from tests.people.factories import UserFactory


def _post_login(client, email, password, next_=None):
    url = "/login" + (f"?next={next_}" if next_ else "")
    return client.post(url, data={"email": email, "password": password, "csrf_token": csrf(client)})


def test_unknown_and_known_email_get_the_same_answer(client):
    UserFactory(email="known@example.com")
    known = _post_login(client, "known@example.com", "wrong")
    unknown = _post_login(client, "nobody@example.com", "wrong")
    assert known.status_code == unknown.status_code == 401
    assert "Email or password is not correct." in known.get_data(as_text=True)
    assert "Email or password is not correct." in unknown.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LoginAttempt)) == 2


def test_deactivated_user_cannot_sign_in(client):
    UserFactory(email="gone@example.com", active=False)
    assert _post_login(client, "gone@example.com", "password").status_code == 401


def test_account_is_rate_limited_after_repeated_failures(client, app, pinned_clock):
    app.config["LOGIN_THROTTLE_FIRST_DELAY_SECONDS"] = 60  # a slow machine stays inside the wait
    UserFactory(email="target@example.com")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert _post_login(client, "target@example.com", "nope").status_code == 401
    slowed = _post_login(client, "target@example.com", "password")
    assert slowed.status_code == 429
    assert slowed.headers["Retry-After"] == "60"
    assert "Too many failed sign-in attempts. Try again in 60 seconds." in slowed.get_data(
        as_text=True
    )
    pinned_clock.shift(timedelta(seconds=60))  # a wait, not a lock
    assert _post_login(client, "target@example.com", "password").status_code == 302


def test_unknown_emails_are_slowed_down_the_same_way(client, app):
    """The throttle would tell which emails exist if only real accounts were slowed down."""
    app.config["LOGIN_THROTTLE_FIRST_DELAY_SECONDS"] = 60
    UserFactory(email="known@example.com")
    answers = {}
    for email in ("known@example.com", "nobody@example.com"):
        codes = [_post_login(client, email, "nope").status_code for _ in range(6)]
        last = _post_login(client, email, "nope")
        answers[email] = (codes, last.status_code, last.headers.get("Retry-After"))
    assert answers["known@example.com"] == answers["nobody@example.com"]
    assert answers["known@example.com"] == ([401] * 5 + [429], 429, "60")


def test_address_is_rate_limited_across_accounts(client, app):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    app.config["LOGIN_THROTTLE_FIRST_DELAY_SECONDS"] = 60
    for i in range(3):
        _post_login(client, f"someone{i}@example.com", "nope")
    UserFactory(email="fresh@example.com")
    refused = _post_login(client, "fresh@example.com", "password")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/x",
    ],
)
def test_next_never_leaves_the_site(client, target):
    user = UserFactory()
    resp = _post_login(client, user.email, "password", next_=target)
    assert resp.status_code == 302
    assert resp.headers["Location"] in ("/home", "http://cadre.test/home")


def test_next_to_a_local_page_is_followed(client):
    user = UserFactory()
    resp = _post_login(client, user.email, "password", next_="/courses?q=gmp")
    assert resp.headers["Location"].endswith("/courses?q=gmp")


def test_sign_in_issues_a_new_session_cookie(client):
    user = UserFactory()
    client.get("/login")
    before = client.get_cookie("cadre_session", domain="cadre.test")
    _post_login(client, user.email, "password")
    after = client.get_cookie("cadre_session", domain="cadre.test")
    assert before is not None and after is not None
    assert before.value != after.value
