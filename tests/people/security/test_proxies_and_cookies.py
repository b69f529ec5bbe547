"""Behind a reverse proxy the client's real address and scheme count (only when the proxies are
trusted), and over HTTPS the session cookie is __Host- prefixed and Secure in any mode."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.people.models import LoginAttempt
from tests.people.factories import UserFactory

# What a TLS-terminating proxy passes on; over HTTPS the CSRF check also wants a same-site Referer.
FORWARDED = {
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "Referer": "https://cadre.test/login",
}


def _sign_in(client, user, headers=None, base_url=None):
    extra = {"base_url": base_url} if base_url else {}
    page = client.get("/login", headers=headers or {}, **extra).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post(
        "/login",
        data={"email": user.email, "password": "password", "csrf_token": token},
        headers=headers or {},
        **extra,
    )


def _attempt_ips() -> list[str]:
    return list(db.session.scalars(select(LoginAttempt.ip).order_by(LoginAttempt.id)))


def test_over_https_the_session_cookie_is_host_prefixed_and_secure(app, client):
    user = UserFactory()
    login = _sign_in(
        client, user, headers={"Referer": "https://cadre.test/login"}, base_url="https://cadre.test"
    )
    cookie = login.headers["Set-Cookie"]
    assert login.status_code == 302 and cookie.startswith("__Host-cadre_session=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain=" not in cookie
    assert client.get("/home", base_url="https://cadre.test").status_code == 200


def test_over_plain_http_outside_production_the_cookie_keeps_its_name(client):
    login = _sign_in(client, UserFactory())
    cookie = login.headers["Set-Cookie"]
    assert cookie.startswith("cadre_session=") and "Secure" not in cookie


def test_forwarded_headers_are_ignored_unless_the_proxies_are_trusted(app, client):
    user = UserFactory()
    login = _sign_in(client, user, headers=FORWARDED)
    assert _attempt_ips() == ["127.0.0.1"]  # anyone can send these headers
    assert login.headers["Set-Cookie"].startswith("cadre_session=")

    app.config["TRUSTED_PROXIES"] = 1
    again = _sign_in(app.test_client(), user, headers=FORWARDED)
    assert _attempt_ips() == ["127.0.0.1", "203.0.113.7"]  # the address the proxy saw
    # The proxy terminated HTTPS: the browser's cookie is the HTTPS one.
    assert again.headers["Set-Cookie"].startswith("__Host-cadre_session=")
