"""Admin page for API tokens: issue (plaintext once), list, revoke, access."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.people.models import ApiToken
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.helpers.api import bearer
from tests.people.factories import UserFactory

PLAINTEXT = re.compile(r"cadre_[A-Za-z0-9_-]{40,}")


@pytest.fixture
def admin(app):
    return UserFactory(roles=["admin"], name="Ada Admin")


def _create(client, **form):
    data = {"csrf_token": csrf(client, "/admin/tokens/"), "scopes": ["read"], **form}
    return client.post("/admin/tokens/", data=data)


def test_admin_creates_token_and_sees_it_once(client, auth, admin):
    owner = UserFactory(roles=["trainer"], email="sync@example.com")
    auth.login(admin)
    resp = _create(
        client, owner_email="SYNC@example.com", name="HRIS sync", scopes=["read", "write"],
        expires_days="30",
    )  # fmt: skip
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    found = PLAINTEXT.findall(html)
    assert len(set(found)) == 1, html
    plaintext = found[0]
    assert "Copy this token now" in html
    assert resp.headers["Cache-Control"] == "no-store"
    token = db.session.scalar(select(ApiToken))
    assert (token.user_id, token.name, token.scope_set) == (
        owner.id,
        "HRIS sync",
        {"read", "write"},
    )
    assert token.expires_at is not None and token.created_by_id == admin.id
    # The token works against the API as its owner...
    api = client.application.test_client()
    assert api.get("/api/training/courses", headers=bearer(plaintext)).status_code == 200
    # ...and the list shows the prefix, never the plaintext.
    listing = client.get("/admin/tokens/").get_data(as_text=True)
    assert "HRIS sync" in listing and token.prefix in listing and "sync@example.com" in listing
    assert plaintext not in listing and not PLAINTEXT.search(listing)
    assert token.token_hash not in listing


def test_revoke_from_the_page(client, auth, admin):
    owner = UserFactory(roles=["trainer"])
    auth.login(admin)
    plaintext = PLAINTEXT.search(
        _create(client, owner_email=owner.email, name="ci").get_data(as_text=True)
    ).group(0)
    token = db.session.scalar(select(ApiToken))
    resp = client.post(
        f"/admin/tokens/{token.id}/revoke", data={"csrf_token": csrf(client, "/admin/tokens/")}
    )
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "is revoked" in page and "badge-revoked" in page
    api = client.application.test_client()
    assert api.get("/api/training/courses", headers=bearer(plaintext)).status_code == 401
    audit = db.session.scalars(select(AuditLog).where(AuditLog.entity == "api_token")).all()
    assert [a.action for a in audit] == ["create", "revoke"]
    assert {a.actor_id for a in audit} == {admin.id}


def test_revoke_unknown_token_is_404(client, auth, admin):
    auth.login(admin)
    resp = client.post(
        "/admin/tokens/999/revoke", data={"csrf_token": csrf(client, "/admin/tokens/")}
    )
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"owner_email": "nobody@example.com", "name": "x"}, "No account with this email."),
        ({"owner_email": "", "name": "x"}, "This field is required."),
        ({"name": ""}, "This field is required."),
        ({"scopes": []}, "Choose at least one scope."),
        ({"scopes": ["root"]}, "not a valid choice"),
        ({"expires_days": "0"}, "between 1 and 3650"),
        ({"expires_days": "soon"}, "Not a valid integer value."),
    ],
)
def test_bad_input_rerenders_with_errors_and_writes_nothing(client, auth, admin, form, message):
    auth.login(admin)
    data = {"owner_email": admin.email, "name": "ok", **form}
    resp = _create(client, **data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html
    assert not PLAINTEXT.search(html)
    assert db.session.scalars(select(ApiToken)).all() == []


def test_no_token_for_deactivated_owner(client, auth, admin):
    gone = UserFactory(active=False)
    auth.login(admin)
    resp = _create(client, owner_email=gone.email, name="x")
    assert resp.status_code == 422 and "deactivated" in resp.get_data(as_text=True)


def test_create_without_csrf_is_400(client, auth, admin):
    auth.login(admin)
    resp = client.post(
        "/admin/tokens/", data={"owner_email": admin.email, "name": "x", "scopes": "read"}
    )
    assert resp.status_code == 400
    assert db.session.scalars(select(ApiToken)).all() == []


@pytest.mark.parametrize("role", ["hr", "qa", "trainer", "manager", "employee", "seller"])
def test_non_admins_get_403(client, auth, admin, role):
    user = UserFactory(roles=[role])
    from app.people.tokens import create_api_token

    token, _ = create_api_token(admin.id, "keep", ["read"], actor=admin)
    auth.login(user)
    assert client.get("/admin/tokens/").status_code == 403
    token_csrf = csrf(client, "/home")
    data = {"csrf_token": token_csrf, "owner_email": user.email, "name": "x", "scopes": "admin"}
    assert client.post("/admin/tokens/", data=data).status_code == 403
    assert (
        client.post(f"/admin/tokens/{token.id}/revoke", data={"csrf_token": token_csrf}).status_code
        == 403
    )
    db.session.expire_all()
    assert [t.revoked_at for t in db.session.scalars(select(ApiToken))] == [None]


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/admin/tokens/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_list_paginates(client, auth, admin):
    from app.people.tokens import create_api_token

    for i in range(25):
        create_api_token(admin.id, f"token-{i:02d}", ["read"], actor=admin)
    auth.login(admin)
    first = client.get("/admin/tokens/").get_data(as_text=True)
    assert "token-24" in first and "token-04" not in first and "Page 1 of 2" in first
    second = client.get("/admin/tokens/?page=2", headers={"HX-Request": "true"})
    html = second.get_data(as_text=True)
    assert "token-04" in html and "<html" not in html  # htmx gets the fragment only
