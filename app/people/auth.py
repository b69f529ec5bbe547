"""Passwords, sign-in with growing delays (no hard lock), and server-side login sessions."""

from __future__ import annotations

import contextlib
import hashlib
import math
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, case, delete, select, update
from sqlalchemy.orm import joinedload, with_expression

from app.extensions import db
from app.people.events import sign_in_throttled
from app.people.models import LoginAttempt, LoginSession, LoginThrottle, User
from app.platform import clock
from app.platform.errors import RateLimited
from app.platform.inputs import as_id
from app.platform.sql import upsert

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


# --- sign-in throttling ---------------------------------------------------------------------
#
# No hard lock: a lock that anyone can trigger by typing a wrong password five times is a way
# to shut out the only QA approver. Instead, after LOGIN_MAX_FAILURES_PER_ACCOUNT failed
# passwords each further try for that account waits FIRST_DELAY * 2^(n - threshold) seconds,
# never more than LOGIN_THROTTLE_MAX_DELAY_SECONDS; a try during the wait is refused before
# the password is checked (so it neither counts nor grows the wait); a success ends the
# episode, and so does a quiet LOGIN_THROTTLE_FORGET_HOURS.
#
# Per address: failures from one client address across accounts slow that address the same
# way (LOGIN_MAX_FAILURES_PER_ADDRESS), on sign-in only. So that the limit does not shut out
# everyone behind one proxy, an account tried from an address it has signed in from before
# (a successful LoginAttempt within KNOWN_ADDRESS_DAYS) is judged by its own "known" key
# instead of the account's and the address's: a flood from the proxy address, or an
# attacker elsewhere holding the account at its capped wait, does not stop the people who
# use Cadre from there; their own wrong passwords still slow them down.
#
# Waits are measured on the business clock (app.platform.clock), as LoginAttempt.at is:
# they are state in the database like any other record, and tests move them with
# pinned_clock.shift instead of sleeping.

KNOWN_ADDRESS_DAYS = 90

Key = tuple[str, str]


def _threshold(kind: str) -> int:
    cfg = current_app.config
    if kind == "address":
        return cfg["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    return cfg["LOGIN_MAX_FAILURES_PER_ACCOUNT"]


def throttle_delay(kind: str, failures: int) -> int:
    """Seconds a key with `failures` failures in its episode waits after the latest one."""
    cfg = current_app.config
    over = failures - _threshold(kind)
    if over < 0:
        return 0
    first = cfg["LOGIN_THROTTLE_FIRST_DELAY_SECONDS"]
    return min(first * 2 ** min(over, 40), cfg["LOGIN_THROTTLE_MAX_DELAY_SECONDS"])


def _forget_before() -> datetime:
    return clock.now() - timedelta(hours=current_app.config["LOGIN_THROTTLE_FORGET_HOURS"])


def _known_address(email: str, ip: str | None) -> bool:
    if not ip:
        return False
    since = clock.now() - timedelta(days=KNOWN_ADDRESS_DAYS)
    found = select(LoginAttempt.id).where(
        LoginAttempt.email == email,
        LoginAttempt.ip == ip,
        LoginAttempt.success.is_(True),
        LoginAttempt.at >= since,
    )
    return db.session.scalar(found.limit(1)) is not None


def throttle_keys(email: str, ip: str | None, *, by_address: bool = False) -> list[Key]:
    """The keys an attempt for `email` from `ip` waits on: the account's "known" key from an
    address it signed in from before, else the account's (and, on sign-in, the address's)."""
    email = (email or "").strip().lower()
    if _known_address(email, ip):
        return [("known", f"{email} {ip}")]
    keys: list[Key] = [("account", email)]
    if by_address and ip:
        keys.append(("address", ip))
    return keys


def _wait(keys: list[Key]) -> int:
    """Seconds until every key may try again (0: now)."""
    T = LoginThrottle
    now, forget = clock.now(), _forget_before()
    longest = 0.0
    for kind, subject in keys:
        row = db.session.execute(
            select(T.failures, T.last_failure_at).where(T.kind == kind, T.subject == subject)
        ).first()
        if row is None or row.last_failure_at < forget:
            continue
        until = row.last_failure_at + timedelta(seconds=throttle_delay(kind, row.failures))
        longest = max(longest, (until - now).total_seconds())
    return math.ceil(longest) if longest > 0 else 0


def _in_words(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


def check_throttle(keys: list[Key]) -> None:
    """Raise RateLimited (with the seconds to wait) while any of `keys` must wait."""
    wait = _wait(keys)
    if wait:
        raise RateLimited(
            f"Too many failed sign-in attempts. Try again in {_in_words(wait)}.",
            retry_after=wait,
        )


def _count_failure(kind: str, subject: str) -> tuple[int, datetime]:
    """Add one failure to a key's episode (a new episode after a quiet spell), atomically
    whatever the number of processes; return the failures and the episode's start."""
    T = LoginThrottle
    now, forget = clock.now(), _forget_before()
    quiet = T.last_failure_at < forget
    statement = (
        upsert(T)
        .values(kind=kind, subject=subject, failures=1, started_at=now, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=["kind", "subject"],
            set_={
                "failures": case((quiet, 1), else_=T.failures + 1),
                "started_at": case((quiet, now), else_=T.started_at),
                "last_failure_at": now,
            },
        )
        .returning(T.failures, T.started_at)
    )
    row = db.session.execute(statement).one()
    return row.failures, row.started_at


def _end_episode(keys: list[Key]) -> None:
    T = LoginThrottle
    for kind, subject in keys:
        db.session.execute(delete(T).where(T.kind == kind, T.subject == subject))


def record_failed_attempt(email: str, ip: str | None, keys: list[Key] | None = None) -> None:
    """Count a failed password check (sign-in, e-signature, own password change) toward the
    throttle: the attempt's keys and always the account's. Commits. The account reaching
    its threshold starts one notice per episode (people.sign_in_throttled)."""
    email = (email or "").strip().lower()
    keys = list(keys if keys is not None else throttle_keys(email, ip))
    if ("account", email) not in keys:
        keys.append(("account", email))
    db.session.add(LoginAttempt(email=email, ip=ip, success=False))
    for kind, subject in keys:
        failures, started_at = _count_failure(kind, subject)
        if kind == "account" and failures == _threshold("account"):
            user_id = db.session.scalar(select(User.id).where(User.email == email))
            if user_id is not None:
                sign_in_throttled.publish(
                    user_id=user_id, failures=failures, address=ip, episode=started_at
                )
    db.session.commit()


def authenticate(email: str, password: str, ip: str | None) -> User | None:
    """Return the user for valid credentials, else None (the failure counted).

    Raises RateLimited, before checking the password, while the account (or, for an account
    never signed in from `ip`, the address) must wait; a right password is refused too.
    """
    email = (email or "").strip().lower()
    keys = throttle_keys(email, ip, by_address=True)
    check_throttle(keys)
    user = db.session.scalar(select(User).where(User.email == email))
    # A service account has no password to check; refusing it here keeps it so.
    ok = (
        check_password(user, password or "")
        and user is not None
        and user.active
        and not user.is_service_account
    )
    if not ok:
        record_failed_attempt(email, ip, keys)
        return None
    user.password_checked_epoch = user.session_epoch or 0
    db.session.add(LoginAttempt(email=email, ip=ip, success=True))
    # A success ends the account's episode; never the address's (anyone could sign in to
    # their own account from a flooding address to clear it).
    _end_episode([k for k in keys if k[0] != "address"] + [("account", email)])
    db.session.commit()
    return user


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
            epoch=(
                user.password_checked_epoch
                if user.password_checked_epoch is not None
                else user.session_epoch or 0
            ),
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
                LoginSession.epoch == User.session_epoch,
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


def end_other_sessions(user: User, keep_token: str | None = None) -> None:
    """After a password change: every session of the user but `keep_token`'s is over, also
    one being started with the old password right now (the caller commits).

    Bumps the user's session epoch (a session row carries the epoch it began under) and
    carries the kept session over to the new one; revokes the others' rows for the record.
    """
    user.session_epoch = (user.session_epoch or 0) + 1
    live = [LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)]
    if keep_token:
        kept = LoginSession.token_hash == _digest(keep_token)
        db.session.execute(update(LoginSession).where(*live, kept).values(epoch=user.session_epoch))
        live.append(LoginSession.token_hash != _digest(keep_token))
    db.session.execute(update(LoginSession).where(*live).values(revoked_at=clock.now()))


def prune_login_attempts(days: int = 90) -> int:
    """Delete login attempts older than `days`, and throttle episodes long over."""
    result = db.session.execute(
        delete(LoginAttempt).where(LoginAttempt.at < clock.now() - timedelta(days=days))
    )
    over = LoginThrottle.last_failure_at < _forget_before()
    db.session.execute(delete(LoginThrottle).where(over))
    db.session.commit()
    return result.rowcount or 0


def change_own_password(
    user: User,
    current: str | None,
    new: str | None,
    confirm: str | None,
    ip: str | None,
    keep_token: str | None = None,
) -> None:
    """A person replaces their password; wrong current passwords count toward the throttle.

    Every other session of the person ends (`keep_token`'s, the one changing it, stays);
    API tokens are untouched. Raises RateLimited (must wait) or Invalid (field errors).
    Clears a forced change.
    """
    from app.people.passwords import password_problems
    from app.platform.audit import record_audit
    from app.platform.errors import Invalid

    keys = throttle_keys(user.email, ip)
    check_throttle(keys)
    if not check_password(user, current or ""):
        record_failed_attempt(user.email, ip, keys)
        message = "Not correct. Failed tries slow down further sign-in attempts."
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
    end_other_sessions(user, keep_token)
    record_audit(
        "update",
        "user",
        user.id,
        after={
            "password changed": True,
            "must_change_password": False,
            "password_changed_at": user.password_changed_at.isoformat(),
            "other sessions ended": True,
        },
        reason="changed own password",
        actor=user,
    )
    db.session.commit()
