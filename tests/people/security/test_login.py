"""Sign-in: same answer for unknown emails, rate limits, safe `next`, fresh session ids."""

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


def test_account_is_rate_limited_after_repeated_failures(client, app):
    UserFactory(email="target@example.com")
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        assert _post_login(client, "target@example.com", "nope").status_code == 401
    locked = _post_login(client, "target@example.com", "password")
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Too many failed sign-in attempts" in locked.get_data(as_text=True)


def test_address_is_rate_limited_across_accounts(client, app):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    for i in range(3):
        _post_login(client, f"someone{i}@example.com", "nope")
    UserFactory(email="fresh@example.com")
    assert _post_login(client, "fresh@example.com", "password").status_code == 429


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
