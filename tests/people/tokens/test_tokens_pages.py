"""API token pages: My API tokens (everyone mints and revokes their own), the admin page
(service accounts and their tokens, revoking anyone's), access for every role."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.people.models import ApiToken, User
from app.people.tokens import create_api_token
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.helpers.api import ROLES, bearer
from tests.helpers.factories import password_hash
from tests.people.factories import ServiceAccountFactory, UserFactory

PLAINTEXT = re.compile(r"cadre_[A-Za-z0-9_-]{40,}")


@pytest.fixture
def admin(app):
    return UserFactory(roles=["admin"], name="Ada Admin")


@pytest.fixture
def service(app):
    return ServiceAccountFactory(roles=["trainer"], name="Order system (service account)")


def _create(client, **form):
    data = {"csrf_token": csrf(client, "/admin/tokens/"), "scopes": ["read"], **form}
    return client.post("/admin/tokens/", data=data)


def _create_mine(client, **form):
    data = {"csrf_token": csrf(client, "/account/tokens/"), "scopes": ["read"], **form}
    return client.post("/account/tokens/", data=data)


# --- My API tokens -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_role_mints_its_own_token_and_sees_it_once(client, auth, role):
    me = UserFactory(roles=[role])
    UserFactory(roles=[role], email="other@example.com")
    auth.login(me)
    page = client.get("/account/tokens/")
    assert page.status_code == 200 and "My API tokens" in page.get_data(as_text=True)
    assert 'href="/account/tokens/"' in client.get("/home").get_data(as_text=True)
    # The form has no owner to choose: a token is always the signed-in person's own.
    resp = _create_mine(client, name="laptop", owner_email="other@example.com", user_id="999")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    plaintext = PLAINTEXT.search(resp.get_data(as_text=True)).group(0)
    token = db.session.scalar(select(ApiToken))
    assert (token.user_id, token.created_by_id, token.name) == (me.id, me.id, "laptop")
    api = client.application.test_client()
    assert api.get("/api/training/courses", headers=bearer(plaintext)).status_code == 200
    listing = client.get("/account/tokens/").get_data(as_text=True)
    assert "laptop" in listing and token.prefix in listing and plaintext not in listing


def test_my_tokens_lists_and_revokes_only_my_own(client, auth):
    me, other = UserFactory(), UserFactory()
    mine, _ = create_api_token(me.id, "my-script", ["read"], actor=me)
    theirs, _ = create_api_token(other.id, "their-script", ["read"], actor=other)
    auth.login(me)
    listing = client.get("/account/tokens/").get_data(as_text=True)
    assert "my-script" in listing and "their-script" not in listing
    token_csrf = csrf(client, "/account/tokens/")
    resp = client.post(f"/account/tokens/{theirs.id}/revoke", data={"csrf_token": token_csrf})
    assert resp.status_code == 404
    resp = client.post(f"/account/tokens/{mine.id}/revoke", data={"csrf_token": token_csrf})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, mine.id).revoked_at is not None
    assert db.session.get(ApiToken, theirs.id).revoked_at is None


def test_my_tokens_bad_input_rerenders(client, auth):
    auth.login(UserFactory())
    resp = _create_mine(client, name="", scopes=[])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Choose at least one scope." in html
    assert db.session.scalars(select(ApiToken)).all() == []


def test_my_tokens_needs_sign_in(client):
    resp = client.get("/account/tokens/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# --- admin: service accounts and their tokens --------------------------------------------------


def test_admin_adds_a_service_account_named_as_such(client, auth, admin):
    auth.login(admin)
    data = {
        "csrf_token": csrf(client, "/admin/tokens/"),
        "name": "Order system",
        "roles": ["trainer"],
    }
    resp = client.post("/admin/tokens/service-accounts", data=data)
    assert resp.status_code == 302
    account = db.session.scalar(select(User).where(User.kind == "service"))
    assert account.name == "Order system (service account)"
    assert account.roles == {"trainer"} and account.password_hash is None
    page = client.get("/admin/tokens/").get_data(as_text=True)
    assert "Order system (service account)" in page
    # It cannot sign in, even were a password forced onto the row.
    account.password_hash = password_hash()
    db.session.commit()
    auth.logout()
    resp = client.post(
        "/login",
        data={"email": account.email, "password": "password", "csrf_token": csrf(client)},
    )
    assert resp.status_code != 302
    assert client.get("/home").status_code == 302


def test_admin_creates_a_service_account_token_and_sees_it_once(client, auth, admin, service):
    auth.login(admin)
    resp = _create(
        client, owner_id=str(service.id), name="HRIS sync", scopes=["read", "write"],
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
        service.id,
        "HRIS sync",
        {"read", "write"},
    )
    assert token.expires_at is not None and token.created_by_id == admin.id
    api = client.application.test_client()
    assert api.get("/api/training/courses", headers=bearer(plaintext)).status_code == 200
    listing = client.get("/admin/tokens/").get_data(as_text=True)
    assert "HRIS sync" in listing and token.prefix in listing and service.name in listing
    assert plaintext not in listing and not PLAINTEXT.search(listing)
    assert token.token_hash not in listing


def test_the_attack_an_admin_cannot_mint_a_token_in_a_persons_name(client, auth, admin, service):
    """Issue 16: an admin issued a write token in another person's name and acted as them."""
    person = UserFactory(roles=["trainer"], email="victim@example.com")
    auth.login(admin)
    page = client.get("/admin/tokens/").get_data(as_text=True)
    assert "victim@example.com" not in page  # not even offered
    resp = _create(client, owner_id=str(person.id), name="as them", scopes=["read", "write"])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 403
    assert "Nobody mints a token for another person" in html and not PLAINTEXT.search(html)
    # Nor through the old form field, nor through My API tokens.
    resp = _create(client, owner_email=person.email, name="as them")
    assert resp.status_code == 422 and not PLAINTEXT.search(resp.get_data(as_text=True))
    resp = _create_mine(client, name="as them", user_id=str(person.id))
    assert db.session.scalar(select(ApiToken.user_id)) == admin.id  # the admin's own, at most
    assert db.session.scalars(select(ApiToken).where(ApiToken.user_id == person.id)).all() == []


def test_revoke_any_token_from_the_admin_page(client, auth, admin):
    owner = UserFactory(roles=["trainer"])
    token, plaintext = create_api_token(owner.id, "ci", ["read"], actor=owner)
    auth.login(admin)
    resp = client.post(
        f"/admin/tokens/{token.id}/revoke", data={"csrf_token": csrf(client, "/admin/tokens/")}
    )
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "is revoked" in page and "badge-revoked" in page
    api = client.application.test_client()
    assert api.get("/api/training/courses", headers=bearer(plaintext)).status_code == 401
    audit = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "api_token").order_by(AuditLog.id)
    ).all()
    assert [(a.action, a.actor_id) for a in audit] == [("create", owner.id), ("revoke", admin.id)]


def test_revoke_unknown_token_is_404(client, auth, admin):
    auth.login(admin)
    resp = client.post(
        "/admin/tokens/999/revoke", data={"csrf_token": csrf(client, "/admin/tokens/")}
    )
    assert resp.status_code == 404


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"owner_id": "987654"}, "No such user."),
        ({"owner_id": ""}, "This field is required."),
        ({"name": ""}, "This field is required."),
        ({"scopes": []}, "Choose at least one scope."),
        ({"scopes": ["root"]}, "not a valid choice"),
        ({"expires_days": "0"}, "between 1 and 3650"),
        ({"expires_days": "soon"}, "Not a valid integer value."),
    ],
)
def test_bad_input_rerenders_with_errors_and_writes_nothing(
    client, auth, admin, service, form, message
):
    auth.login(admin)
    data = {"owner_id": str(service.id), "name": "ok", **form}
    resp = _create(client, **data)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html
    assert not PLAINTEXT.search(html)
    assert db.session.scalars(select(ApiToken)).all() == []


def test_no_token_for_deactivated_service_account(client, auth, admin):
    gone = ServiceAccountFactory(active=False)
    auth.login(admin)
    resp = _create(client, owner_id=str(gone.id), name="x")
    assert resp.status_code == 422 and "deactivated" in resp.get_data(as_text=True)


def test_create_without_csrf_is_400(client, auth, admin, service):
    auth.login(admin)
    resp = client.post(
        "/admin/tokens/", data={"owner_id": str(service.id), "name": "x", "scopes": "read"}
    )
    assert resp.status_code == 400
    assert db.session.scalars(select(ApiToken)).all() == []


@pytest.mark.parametrize("role", ["hr", "qa", "trainer", "manager", "employee", "seller"])
def test_non_admins_get_403_on_the_admin_page(client, auth, admin, service, role):
    user = UserFactory(roles=[role])
    token, _ = create_api_token(admin.id, "keep", ["read"], actor=admin)
    auth.login(user)
    assert client.get("/admin/tokens/").status_code == 403
    token_csrf = csrf(client, "/home")
    data = {"csrf_token": token_csrf, "owner_id": str(service.id), "name": "x", "scopes": "admin"}
    assert client.post("/admin/tokens/", data=data).status_code == 403
    account = {"csrf_token": token_csrf, "name": "Mine", "roles": ["admin"]}
    assert client.post("/admin/tokens/service-accounts", data=account).status_code == 403
    assert (
        client.post(f"/admin/tokens/{token.id}/revoke", data={"csrf_token": token_csrf}).status_code
        == 403
    )
    db.session.expire_all()
    assert [t.revoked_at for t in db.session.scalars(select(ApiToken))] == [None]
    assert db.session.scalars(select(ApiToken).where(ApiToken.user_id == service.id)).all() == []
    assert db.session.scalar(select(User).where(User.name == "Mine (service account)")) is None


def test_anonymous_is_sent_to_login(client):
    for url in ("/admin/tokens/", "/account/tokens/"):
        resp = client.get(url)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_list_paginates(client, auth, admin):
    for i in range(25):
        create_api_token(admin.id, f"token-{i:02d}", ["read"], actor=admin)
    auth.login(admin)
    first = client.get("/admin/tokens/").get_data(as_text=True)
    assert "token-24" in first and "token-04" not in first and "Page 1 of 2" in first
    second = client.get("/admin/tokens/?page=2", headers={"HX-Request": "true"})
    html = second.get_data(as_text=True)
    assert "token-04" in html and "<html" not in html  # htmx gets the fragment only
    mine = client.get("/account/tokens/?page=2", headers={"HX-Request": "true"})
    assert "token-04" in mine.get_data(as_text=True)
