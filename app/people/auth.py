"""Passwords, sign-in with rate limits, and server-side login sessions."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.orm import joinedload, with_expression

from app.extensions import db
from app.people.models import LoginAttempt, LoginSession, User
from app.platform import clock
from app.platform.errors import RateLimited
from app.platform.inputs import as_id

_hashers: dict[bool, PasswordHasher] = {}
_dummy_hashes: dict[bool, str] = {}


def _hasher() -> PasswordHasher:
    fast = bool(current_app.config.get("ARGON2_FAST"))
    if fast not in _hashers:
        # The fast profile is for the test suite only; production uses argon2-cffi's defaults.
        _hashers[fast] = (
            PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
            if fast
            else PasswordHasher()
        )
    return _hashers[fast]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Verify a password; unknown users cost the same as known ones."""
    hasher = _hasher()
    stored = user.password_hash if user is not None and user.password_hash else None
    if stored is None:
        # Burn the same work as a real check so timing does not reveal which emails exist.
        with contextlib.suppress(VerificationError):
            hasher.verify(_dummy_hash(), password + "x")
        return False
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _dummy_hash() -> str:
    fast = bool(current_app.config.get("ARGON2_FAST"))
    if fast not in _dummy_hashes:
        _dummy_hashes[fast] = _hasher().hash(secrets.token_hex(8))
    return _dummy_hashes[fast]


def check_not_locked(email: str, ip: str | None) -> None:
    """Raise RateLimited while the account or the address has too many recent failures."""
    cfg = current_app.config
    window = cfg["LOGIN_FAILURE_WINDOW_SECONDS"]
    since = clock.now() - timedelta(seconds=window)
    failures = select(func.count()).where(LoginAttempt.success.is_(False), LoginAttempt.at >= since)
    by_account = db.session.scalar(failures.where(LoginAttempt.email == email))
    by_address = db.session.scalar(failures.where(LoginAttempt.ip == ip)) if ip else 0
    if (
        by_account >= cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
        or by_address >= cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    ):
        raise RateLimited("Too many failed sign-in attempts. Try again later.", retry_after=window)


def record_failed_attempt(email: str, ip: str | None) -> None:
    """Count a failed password check (sign-in or e-signature) toward the lockout."""
    db.session.add(LoginAttempt(email=email.strip().lower(), ip=ip, success=False))
    db.session.commit()


def authenticate(email: str, password: str, ip: str | None) -> User | None:
    """Return the user for valid credentials, else None; raise RateLimited when locked out."""
    email = (email or "").strip().lower()
    check_not_locked(email, ip)
    user = db.session.scalar(select(User).where(User.email == email))
    ok = check_password(user, password or "") and user is not None and user.active
    db.session.add(LoginAttempt(email=email, ip=ip, success=bool(ok)))
    db.session.commit()
    return user if ok else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_login_session(user: User, ip: str | None, user_agent: str | None) -> str:
    """Create a server-side session row and return the secret for the cookie."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        LoginSession(
            token_hash=_digest(token),
            user_id=user.id,
            ip=ip,
            user_agent=(user_agent or "")[:300],
        )
    )
    db.session.commit()
    return token


# One round trip on every request: the user, their role grants, the session check, and what
# other domains add to it (the nav bell's unread count). Built once per set of additions:
# constructing the statement cost about as much as running it.
_session_extras: list[tuple] = []
_session_statement: list = []


def add_to_session_load(attribute, expression) -> None:
    """Load `expression` into the User query_expression `attribute` with every request's user
    (a correlated scalar subquery on User), so a page needs no second query for it."""
    _session_extras.append((attribute, expression))
    _session_statement.clear()


def _session_user_statement():
    if not _session_statement:
        _session_statement.append(
            select(User)
            .join(LoginSession, LoginSession.user_id == User.id)
            .where(
                User.id == bindparam("user_id"),
                User.active.is_(True),
                LoginSession.token_hash == bindparam("token_hash"),
                LoginSession.revoked_at.is_(None),
            )
            .options(
                joinedload(User.role_grants),
                *(with_expression(a, e) for a, e in _session_extras),
            )
        )
    return _session_statement[0]


def load_session_user(user_id: str, token: str | None) -> User | None:
    """Return the user only if the cookie's session row is live and the account active."""
    if not token or as_id(str(user_id)) is None:
        return None
    params = {"user_id": int(user_id), "token_hash": _digest(token)}
    return db.session.execute(_session_user_statement(), params).unique().scalar_one_or_none()


def end_login_session(token: str | None) -> None:
    if not token:
        return
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == _digest(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    db.session.commit()


def end_all_sessions(user_id: int) -> None:
    """Revoke every live session of a user (the caller commits)."""
    db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def prune_login_attempts(days: int = 90) -> int:
    """Delete login attempts older than `days`."""
    result = db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < clock.now() - timedelta(days=days))
    )
    db.session.commit()
    return result.rowcount or 0


def change_own_password(
    user: User, current: str | None, new: str | None, confirm: str | None, ip: str | None
) -> None:
    """A person replaces their password; wrong current passwords count toward the lockout.

    Raises RateLimited (locked out) or Invalid (field errors). Clears a forced change.
    """
    from app.people.passwords import password_problems
    from app.platform.audit import record_audit
    from app.platform.errors import Invalid

    check_not_locked(user.email, ip)
    if not check_password(user, current or ""):
        record_failed_attempt(user.email, ip)
        message = "Not correct. Failed tries count toward the sign-in lockout."
        raise Invalid("The current password is not correct.", {"current_password": [message]})
    new = new or ""
    errors: dict[str, list[str]] = {}
    problems = password_problems(new, email=user.email)
    if problems:
        errors["new_password"] = problems
    elif new != (confirm or ""):
        errors["confirm_password"] = ["Does not match the new password."]
    elif check_password(user, new):
        errors["new_password"] = ["Choose a password different from the current one."]
    if errors:
        raise Invalid("Some fields are not valid.", errors)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = clock.now()
    record_audit(
        "update",
        "user",
        user.id,
        after={
            "password changed": True,
            "must_change_password": False,
            "password_changed_at": user.password_changed_at.isoformat(),
        },
        reason="changed own password",
        actor=user,
    )
    db.session.commit()
