"""Service accounts: the accounts system integrations act as, named as such, so the audit trail
never shows a person for what a system did (issue 16). They call the API with tokens an admin
mints for them, and never sign in with a password, e-sign or take training."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from app.extensions import db
from app.people.models import ROLES, ApiToken, User
from app.people.users import check_may_grant, grant_role, parse_roles, user_snapshot
from app.platform.audit import read_back, record_audit
from app.platform.errors import Invalid

SUFFIX = " (service account)"
EMAIL_DOMAIN = "service-account.invalid"  # reserved TLD: no mail ever reaches it


def create_service_account(name: str, roles, actor: User | None) -> User:
    """Create a service account named "<name> (service account)" with `roles` (what its tokens
    may do). Raises Invalid, Forbidden (only an admin grants roles)."""
    check_may_grant(actor)
    errors: dict[str, list[str]] = {}
    name = name.strip() if isinstance(name, str) else ""
    if name.endswith(SUFFIX):
        name = name[: -len(SUFFIX)].strip()
    if not name or len(name) > 200 - len(SUFFIX):
        errors["name"] = [f"Required, at most {200 - len(SUFFIX)} characters."]
    elif db.session.scalar(select(User.id).where(User.name == name + SUFFIX)):
        errors["name"] = ["A service account has this name already."]
    role_list, unknown = parse_roles(roles)
    if unknown or not role_list:
        errors["roles"] = [f"Pick one or more of: {', '.join(ROLES)}."]
    if errors:
        raise Invalid("Some service account fields are not valid.", errors)
    account = User(
        kind="service",
        name=name + SUFFIX,
        email=f"service-{secrets.token_hex(6)}@{EMAIL_DOMAIN}",
        active=True,
        password_hash=None,
    )
    db.session.add(account)
    db.session.flush()
    for role in role_list:
        grant_role(account, role, actor)
    record_audit(
        "create",
        "user",
        account.id,
        after={**user_snapshot(read_back(account)), "kind": "service"},
        reason="service account",
        actor=actor,
    )
    db.session.commit()
    return account


def list_service_accounts() -> list[tuple[User, int]]:
    """Every service account, by name, with its number of tokens that are not revoked."""
    live = (
        select(func.count(ApiToken.id))
        .where(ApiToken.user_id == User.id, ApiToken.revoked_at.is_(None))
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(User, live).where(User.kind == "service").order_by(User.name, User.id)
    )
    return [(user, count) for user, count in rows]


def service_account_choices() -> list[tuple[int, str]]:
    """(id, name) of the active service accounts, for the token form's owner menu."""
    rows = db.session.execute(
        select(User.id, User.name)
        .where(User.kind == "service", User.active.is_(True))
        .order_by(User.name, User.id)
    )
    return [(uid, name) for uid, name in rows]
