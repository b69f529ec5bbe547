"""Token service: stored hashed, scopes checked, create and revoke audited without secrets."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from app.extensions import db
from app.people.models import ApiToken
from app.people.tokens import (
    authenticate_token,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
    token_has_scope,
)
from app.platform.audit import AuditLog
from app.platform.errors import Forbidden, Invalid, NotFound
from tests.people.factories import ServiceAccountFactory, UserFactory


def test_token_is_stored_only_as_a_hash(app):
    admin = UserFactory(roles=["admin"])
    owner = ServiceAccountFactory(roles=["trainer"])
    token, plaintext = create_api_token(owner.id, "sync", ["write", "read"], actor=admin)
    assert plaintext.startswith("cadre_") and len(plaintext) > 40
    row = db.session.get(ApiToken, token.id)
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in (row.token_hash, row.prefix, row.name)
    assert plaintext.startswith(row.prefix) and len(row.prefix) < 16
    assert row.scope_set == {"read", "write"} and row.created_by_id == admin.id
    assert authenticate_token(plaintext).id == token.id


def test_create_and_revoke_are_audited_without_secrets(app):
    admin = UserFactory(roles=["admin"])
    token, plaintext = create_api_token(admin.id, "ci", ["read"], actor=admin, expires_days=30)
    revoke_api_token(token.id, actor=admin)
    rows = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "api_token").order_by(AuditLog.id)
    ).all()
    assert [(r.action, r.entity_id, r.actor_id) for r in rows] == [
        ("create", str(token.id), admin.id),
        ("revoke", str(token.id), admin.id),
    ]
    assert rows[0].after["name"] == "ci" and rows[0].after["expires_at"]
    assert rows[1].after["revoked_at"]
    for row in rows:
        text = repr((row.before, row.after, row.reason))
        assert plaintext not in text and token.token_hash not in text
        assert plaintext[len(token.prefix) :][:10] not in text


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["read", "root"]}, "scopes"),
        ({"name": "  "}, "name"),
        ({"name": "n" * 121}, "name"),
        ({"expires_days": 0}, "expires_days"),
        ({"expires_days": "7"}, "expires_days"),
        ({"user_id": 987654}, "user_id"),
    ],
)
def test_invalid_tokens_are_refused(app, kwargs, field):
    user = UserFactory()
    args = {"user_id": user.id, "name": "n", "scopes": ["read"], "actor": user, **kwargs}
    with pytest.raises(Invalid) as exc:
        create_api_token(**args)
    assert field in exc.value.errors
    assert db.session.scalars(select(ApiToken)).all() == []


def test_no_token_for_a_deactivated_user(app):
    user = UserFactory(active=False)
    with pytest.raises(Invalid):
        create_api_token(user.id, "n", ["read"], actor=user)


def test_revoking_twice_is_harmless_and_unknown_is_not_found(app):
    user = UserFactory()
    token, plaintext = create_api_token(user.id, "n", ["read"], actor=user)
    revoke_api_token(token.id, actor=None)
    revoke_api_token(token.id, actor=None)
    assert authenticate_token(plaintext) is None
    assert (
        db.session.scalars(select(AuditLog).where(AuditLog.action == "revoke")).all().__len__() == 1
    )
    with pytest.raises(NotFound):
        revoke_api_token(424242, actor=None)


def test_scope_implication():
    token = ApiToken(scopes="write")
    assert token_has_scope(token, "read") and token_has_scope(token, "write")
    assert not token_has_scope(token, "admin")
    assert token_has_scope(ApiToken(scopes="admin"), "write")
    assert not token_has_scope(ApiToken(scopes="read"), "write")


def test_list_is_newest_first_and_paginates_in_constant_queries(app, count_queries):
    for i in range(5):
        owner = UserFactory()
        create_api_token(owner.id, f"t{i}", ["read"], actor=owner)
    db.session.expire_all()
    with count_queries() as statements:
        page = list_api_tokens(page=1, per_page=3)
        owners = [t.user.email for t in page.items]
    assert [t.name for t in page.items] == ["t4", "t3", "t2"]
    assert len(owners) == 3 and page.total == 5 and page.pages == 2
    assert len(statements) <= 3


@pytest.mark.parametrize("minter", ["admin", "hr", "manager", "nobody"])
def test_nobody_mints_a_token_for_another_person(app, minter):
    """The attack from issue 16: an admin issued a write token in another person's name and
    acted as them. Now neither an admin, anyone else, nor the command line (no actor) can."""
    person = UserFactory(roles=["trainer"])
    actor = None if minter == "nobody" else UserFactory(roles=[minter])
    with pytest.raises(Forbidden) as exc:
        create_api_token(person.id, "as them", ["read", "write"], actor=actor)
    assert "Nobody mints a token for another person" in exc.value.detail
    assert db.session.scalars(select(ApiToken)).all() == []
    assert db.session.scalars(select(AuditLog).where(AuditLog.entity == "api_token")).all() == []


def test_a_person_mints_their_own_and_an_admin_a_service_accounts(app):
    person = UserFactory(roles=["trainer"])
    token, _ = create_api_token(person.id, "mine", ["read"], actor=person)
    assert (token.user_id, token.created_by_id) == (person.id, person.id)
    service = ServiceAccountFactory(roles=["trainer"])
    admin = UserFactory(roles=["admin"])
    token, _ = create_api_token(service.id, "sync", ["write"], actor=admin)
    assert (token.user_id, token.created_by_id) == (service.id, admin.id)
    with pytest.raises(Forbidden):
        create_api_token(service.id, "sync", ["write"], actor=UserFactory(roles=["hr"]))
