"""API tokens: issue (plaintext shown once, stored hashed), list, revoke, authenticate.

A token belongs to its owner: a person mints tokens for themself only, and a system integration
gets a service account whose tokens an admin mints (issue 16). Nobody mints a token for another
person, so nothing done with a token is ever recorded in a person's name who did not do it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.people.models import TOKEN_SCOPES, ApiToken, User
from app.people.permissions import can
from app.platform import clock
from app.platform.audit import read_back, record_audit
from app.platform.errors import Forbidden, Invalid, NotFound
from app.platform.inputs import as_id
from app.platform.pagination import Page, paginate

TOKEN_PREFIX = "cadre_"  # noqa: S105  (a public marker, not a secret)
PREFIX_LENGTH = 12  # "cadre_" + 6 random characters: enough to recognise, useless to guess
MAX_EXPIRES_DAYS = 3650
# A broader scope implies the narrower ones: admin > write > read.
SCOPE_RANK = {"read": 1, "write": 2, "admin": 3}
NOT_FOR_ANOTHER = (
    "Nobody mints a token for another person: people mint their own on My API tokens, "
    "system integrations use a service account."
)


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def token_has_scope(token: ApiToken, needed: str) -> bool:
    """Tell whether the token's broadest scope covers `needed`."""
    held = max((SCOPE_RANK.get(s, 0) for s in token.scope_set), default=0)
    return held >= SCOPE_RANK[needed]


def token_state(token: ApiToken) -> str:
    """Say whether a token is `active`, `expired` or `revoked` right now."""
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= clock.now():
        return "expired"
    return "active"


def _audit_view(token: ApiToken) -> dict:
    # Never the plaintext or the hash: the prefix is all anyone needs to recognise a token.
    return {
        "name": token.name,
        "user_id": token.user_id,
        "prefix": token.prefix,
        "scopes": sorted(token.scope_set),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def _validate(
    user_id, name, scopes, expires_days
) -> tuple[User | None, str, list[str], int | None]:
    errors: dict[str, list[str]] = {}
    user = db.session.get(User, user_id) if as_id(user_id, text=False) else None
    if user is None:
        errors["user_id"] = ["No such user."]
    elif not user.active:
        errors["user_id"] = ["This account is deactivated."]
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name or len(name) > 120:
        errors["name"] = ["Required, at most 120 characters."]
    if isinstance(scopes, str):
        scopes = [scopes]
    scope_list = sorted({s for s in (scopes or []) if isinstance(s, str)})
    if not scope_list:
        errors["scopes"] = ["Choose at least one scope."]
    elif set(scope_list) - set(TOKEN_SCOPES):
        errors["scopes"] = [f"Scopes are chosen from: {', '.join(TOKEN_SCOPES)}."]
    if expires_days is not None and (
        isinstance(expires_days, bool)
        or not isinstance(expires_days, int)
        or not 1 <= expires_days <= MAX_EXPIRES_DAYS
    ):
        errors["expires_days"] = [f"A whole number of days between 1 and {MAX_EXPIRES_DAYS}."]
    if errors:
        raise Invalid("Some token fields are not valid.", errors)
    return user, name, scope_list, expires_days


def check_may_mint(owner: User, actor: User | None) -> None:
    """A person mints for themself only; a service account's tokens are minted by an admin, or
    by the operator on the command line (no actor). Raises Forbidden."""
    if owner.is_service_account:
        if actor is not None and not can(actor, "token.manage"):
            message = "Only an administrator mints tokens for a service account."
            raise Forbidden(message, {"user_id": [message]})
    elif actor is None or actor.id != owner.id:
        raise Forbidden(NOT_FOR_ANOTHER, {"user_id": [NOT_FOR_ANOTHER]})


def create_api_token(
    user_id: int,
    name: str,
    scopes: list[str],
    actor: User | None,
    expires_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token for a user and return it with its plaintext (never stored).

    Raises Invalid, Forbidden (a token for another person, see check_may_mint).
    """
    user, name, scope_list, expires_days = _validate(user_id, name, scopes, expires_days)
    check_may_mint(user, actor)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=plaintext[:PREFIX_LENGTH],
        token_hash=hash_token(plaintext),
        scopes=" ".join(scope_list),
        created_by_id=actor.id if actor else None,
        expires_at=clock.now() + timedelta(days=expires_days) if expires_days else None,
    )
    db.session.add(token)
    db.session.flush()
    record_audit("create", "api_token", token.id, after=_audit_view(read_back(token)), actor=actor)
    db.session.commit()
    return token, plaintext


def create_api_token_for_email(
    email: str,
    name: str,
    scopes: list[str],
    actor: User | None,
    expires_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Issue a token for the account with this email. Raises Invalid, Forbidden (errors keyed
    `email`)."""
    email = (email or "").strip().lower()
    user_id = db.session.scalar(select(User.id).where(func.lower(User.email) == email))
    try:
        return create_api_token(user_id, name, scopes, actor, expires_days)
    except (Invalid, Forbidden) as exc:
        if "user_id" in exc.errors:
            messages = exc.errors.pop("user_id")
            exc.errors["email"] = ["No account with this email."] if user_id is None else messages
        raise


def revoke_api_token(token_id: int, actor: User | None, owner_id: int | None = None) -> ApiToken:
    """Revoke a token at once; revoking twice is harmless. With `owner_id`, only that owner's
    token (a person revoking their own on My API tokens). Raises NotFound."""
    token = db.session.get(ApiToken, token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id):
        raise NotFound(f"API token {token_id} does not exist.")
    if token.revoked_at is not None:
        return token
    before = _audit_view(token)
    token.revoked_at = clock.now()
    record_audit(
        "revoke",
        "api_token",
        token.id,
        before=before,
        after=_audit_view(read_back(token)),
        actor=actor,
    )
    db.session.commit()
    return token


def list_api_tokens(page: int = 1, per_page: int = 20, owner_id: int | None = None) -> Page:
    """Return a page of tokens (all, or one owner's), newest first, with their owners loaded."""
    q = (
        select(ApiToken)
        .options(joinedload(ApiToken.user))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    if owner_id is not None:
        q = q.where(ApiToken.user_id == owner_id)
    return paginate(q, page, per_page)


def authenticate_token(plaintext: str | None) -> ApiToken | None:
    """Return the live token for this plaintext (not revoked, not expired, owner active)."""
    if not plaintext or not plaintext.startswith(TOKEN_PREFIX) or len(plaintext) > 200:
        return None
    token = db.session.scalar(
        select(ApiToken)
        .join(User, User.id == ApiToken.user_id)
        .options(joinedload(ApiToken.user))
        .where(
            ApiToken.token_hash == hash_token(plaintext),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    )
    if token is None:
        return None
    if token.expires_at is not None and token.expires_at <= clock.now():
        return None
    return token
