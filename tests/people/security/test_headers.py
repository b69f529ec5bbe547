"""Security headers and cookie flags on every response."""

from tests.people.factories import UserFactory


def test_security_headers_on_public_pages(client):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in resp.headers  # only in production
    assert resp.headers.get("Cache-Control") != "no-store"


def test_signed_in_pages_are_not_cached(client, auth):
    auth.login(UserFactory())
    resp = client.get("/home")
    assert resp.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite(client):
    resp = client.get("/login")
    cookie = resp.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_production_sends_hsts_and_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("CADRE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "prod-secret")
    from app import create_app

    prod = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    resp = prod.test_client().get("/login")
    assert "max-age=" in resp.headers["Strict-Transport-Security"]
    assert "Secure" in resp.headers.get("Set-Cookie", "")


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    import pytest

    monkeypatch.setenv("CADRE_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    from app.config import load_config

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config()


def test_request_id_is_echoed(client):
    resp = client.get("/login", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["X-Request-ID"] == "abc-123"
    assert len(client.get("/login").headers["X-Request-ID"]) == 16
