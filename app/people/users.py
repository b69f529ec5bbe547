"""People: create, edit, deactivate and reactivate users, grant roles, and the users list."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.people import auth
from app.people.events import people_changed
from app.people.models import (
    ROLES,
    SELLER_TIERS,
    Department,
    JobRole,
    SellerProfile,
    Team,
    User,
    UserRole,
)
from app.people.passwords import password_problems
from app.platform import clock
from app.platform.audit import AuditLog, read_back, record_audit, snapshot
from app.platform.errors import Forbidden, Invalid, NotFound
from app.platform.inputs import as_id
from app.platform.pagination import Page, clamp, paginate
from app.platform.timefmt import known_zones

EDIT_FIELDS = [
    "email",
    "name",
    "hire_date",
    "manager_id",
    "department_id",
    "team_id",
    "job_role_id",
    "locale",
    "timezone",
    "is_seller",
    "shop_name",
    "seller_tier",
]
AUDIT_FIELDS = [*EDIT_FIELDS, "active", "deactivated_at", "must_change_password", "roles"]
# Edited with the person, kept on their seller profile (SellerProfile), not on User.
SELLER_FIELDS = ("is_seller", "shop_name", "seller_tier")
DEFAULT_ROLES = ("employee",)
# Changing any of these can change which requirements apply or when they fall due.
REQUIREMENT_FIELDS = frozenset({"job_role_id", "department_id", "team_id", "hire_date"})
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
LOCALE_RE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
MAX_MANAGER_DEPTH = 200


def timezone_choices() -> list[str]:
    """Every valid zoneinfo name, sorted, for the form menus."""
    return sorted(known_zones())


def normalise_email(value: Any) -> str:
    return str(value or "").strip().lower()


def check_email(email: str) -> str | None:
    """Return an error message for a malformed email, else None."""
    if not email:
        return "Required."
    if len(email) > 254 or not EMAIL_RE.match(email):
        return "Not a valid email address."
    return None


def check_name(name: str) -> str | None:
    if not name:
        return "Required."
    if len(name) > 200:
        return "At most 200 characters."
    return None


def parse_roles(value: Any) -> tuple[list[str], list[str]]:
    """Split roles given as a list or as 'a;b|c' text; return (roles, unknown names)."""
    if value is None:
        return [], []
    parts = value if isinstance(value, (list, tuple, set)) else re.split(r"[;|]", str(value))
    names = sorted({str(p).strip().lower() for p in parts if str(p).strip()})
    return [n for n in names if n in ROLES], [n for n in names if n not in ROLES]


def seller_facts(user: User) -> dict[str, Any]:
    """is_seller, shop_name and seller_tier as a person's form and API show them."""
    profile = user.seller_profile
    return {
        "is_seller": profile is not None,
        "shop_name": profile.shop_name if profile else None,
        "seller_tier": profile.tier if profile else None,
    }


def user_snapshot(user: User) -> dict[str, Any]:
    """JSON-safe facts of a user for the audit trail; never the password hash."""
    own = snapshot(user, [f for f in AUDIT_FIELDS if f not in SELLER_FIELDS])
    sells = seller_facts(user)
    return {f: sells[f] if f in SELLER_FIELDS else own[f] for f in AUDIT_FIELDS}


def _set_facts(user: User, fields: dict[str, Any]) -> None:
    """Write validated fields: the person's own on User, the seller's on their profile."""
    for key, value in fields.items():
        if key not in SELLER_FIELDS:
            setattr(user, key, value)
    if not any(key in fields for key in SELLER_FIELDS):
        return
    facts = {**seller_facts(user), **{k: v for k, v in fields.items() if k in SELLER_FIELDS}}
    if not facts["is_seller"]:
        user.seller_profile = None
        return
    profile = user.seller_profile or SellerProfile()
    profile.shop_name, profile.tier = facts["shop_name"], facts["seller_tier"]
    user.seller_profile = profile


def _comparable(value: Any) -> Any:
    """A validated value as user_snapshot writes it (dates as ISO text)."""
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist.")
    return user


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def _id(errors: dict, name: str, value: Any) -> int | None:
    if value in (None, ""):
        return None
    number = as_id(value)
    if number is None:
        errors.setdefault(name, []).append("Not a valid choice.")
    return number


def _bool(errors: dict, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "1", "on", "yes", "y", 1):
        return True
    if value in ("false", "0", "off", "no", "n", 0, "", None):
        return False
    errors.setdefault(name, []).append("Must be true or false.")
    return False


def parse_date(errors: dict, name: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        errors.setdefault(name, []).append("Use the date format YYYY-MM-DD.")
        return None


def manager_chain_has(manager_id: int, user_id: int) -> bool:
    """Tell whether `user_id` is `manager_id` or above it in the manager chain (a cycle)."""
    current: int | None = manager_id
    seen: set[int] = set()
    while current is not None and current not in seen and len(seen) < MAX_MANAGER_DEPTH:
        if current == user_id:
            return True
        seen.add(current)
        current = db.session.scalar(select(User.manager_id).where(User.id == current))
    return False


def validate_user_data(data: dict, user: User | None = None) -> dict[str, Any]:
    """Check and normalise user fields (all of them); raise Invalid with per-field errors.

    The manager may be given as `manager_id` or as `manager_email`.
    """
    if not isinstance(data, dict):
        raise Invalid("Expected an object of user fields.")
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    email = normalise_email(data.get("email"))
    if msg := check_email(email):
        errors["email"] = [msg]
    else:
        q = select(User.id).where(User.email == email)
        if user is not None:
            q = q.where(User.id != user.id)
        if db.session.scalar(q) is not None:
            errors["email"] = ["Another person already uses this email."]
    out["email"] = email

    name = str(data.get("name") or "").strip()
    if msg := check_name(name):
        errors["name"] = [msg]
    out["name"] = name

    out["hire_date"] = parse_date(errors, "hire_date", data.get("hire_date"))

    manager_id: int | None = None
    if "manager_email" in data:
        manager_email = normalise_email(data.get("manager_email"))
        if manager_email:
            manager_id = db.session.scalar(select(User.id).where(User.email == manager_email))
            if manager_id is None:
                errors["manager_email"] = ["No person has this email."]
    else:
        manager_id = _id(errors, "manager_id", data.get("manager_id"))
        if manager_id is not None and db.session.get(User, manager_id) is None:
            errors["manager_id"] = ["No such person."]
            manager_id = None
    manager_key = "manager_email" if "manager_email" in data else "manager_id"
    if manager_id is not None and user is not None:
        if manager_id == user.id:
            errors[manager_key] = ["A person cannot be their own manager."]
        elif manager_chain_has(manager_id, user.id):
            errors[manager_key] = ["This would make a loop of managers."]
    out["manager_id"] = manager_id

    department_id = _id(errors, "department_id", data.get("department_id"))
    if department_id is not None and db.session.get(Department, department_id) is None:
        errors["department_id"] = ["No such department."]
    out["department_id"] = department_id

    team_id = _id(errors, "team_id", data.get("team_id"))
    if team_id is not None:
        team = db.session.get(Team, team_id)
        if team is None:
            errors["team_id"] = ["No such team."]
        elif team.department_id != department_id:
            errors["team_id"] = [f"Team {team.name} belongs to another department."]
    out["team_id"] = team_id

    job_role_id = _id(errors, "job_role_id", data.get("job_role_id"))
    if job_role_id is not None and db.session.get(JobRole, job_role_id) is None:
        errors["job_role_id"] = ["No such job role."]
    out["job_role_id"] = job_role_id

    locale = str(data.get("locale") or "en").strip()
    if not LOCALE_RE.match(locale):
        errors["locale"] = ["A language code such as en, de or fr-CH."]
    out["locale"] = locale

    timezone = str(data.get("timezone") or "UTC").strip()
    if timezone not in known_zones():
        errors["timezone"] = ["Not a known time zone (for example Europe/Zurich)."]
    out["timezone"] = timezone

    is_seller = _bool(errors, "is_seller", data.get("is_seller", False))
    out["is_seller"] = is_seller
    shop_name = str(data.get("shop_name") or "").strip() or None
    if shop_name and len(shop_name) > 200:
        errors["shop_name"] = ["At most 200 characters."]
    seller_tier = str(data.get("seller_tier") or "").strip().lower() or None
    if seller_tier and seller_tier not in SELLER_TIERS:
        errors["seller_tier"] = [f"One of: {', '.join(SELLER_TIERS)}."]
    if not is_seller and (shop_name or seller_tier):
        errors.setdefault("is_seller", []).append(
            "Tick 'Marketplace seller' to give a shop name or seller tier."
        )
    out["shop_name"] = shop_name
    out["seller_tier"] = seller_tier

    password = data.get("password") or ""
    if password:
        problems = password_problems(password, email=out.get("email"))
        if problems:
            errors["password"] = problems

    if errors:
        raise Invalid("Some fields are not valid.", errors)
    return out


def check_may_grant(actor: User | None) -> None:
    from app.people.permissions import can

    if actor is not None and not can(actor, "role.manage"):
        raise Forbidden("Only an administrator can grant or revoke roles.")


def check_may_change(user: User, actor: User | None) -> None:
    """Only administrators change administrators (else HR could take over an admin account)."""
    from app.people.permissions import can

    if actor is not None and "admin" in user.roles and not can(actor, "role.manage"):
        raise Forbidden("Only an administrator can change an administrator's account.")


def grant_role(user: User, role: str, actor: User | None) -> None:
    """Add a role grant with its audit row (the caller commits)."""
    user.role_grants.append(UserRole(role=role))
    record_audit(
        "grant", "user_role", user.id, after={"user_id": user.id, "role": role}, actor=actor
    )


def revoke_role(user: User, grant: UserRole, actor: User | None) -> None:
    """Remove a role grant with its audit row (the caller commits)."""
    user.role_grants.remove(grant)
    record_audit(
        "revoke", "user_role", user.id, before={"user_id": user.id, "role": grant.role}, actor=actor
    )


def create_user(data: dict, actor: User | None = None) -> User:
    """Create a person (roles default to employee). Raises Invalid, Forbidden (granting roles)."""
    fields = validate_user_data(data)
    roles, unknown = parse_roles(data.get("roles")) if data.get("roles") else (["employee"], [])
    if unknown or not roles:
        raise Invalid("Unknown role.", {"roles": [f"Pick one or more of: {', '.join(ROLES)}."]})
    if set(roles) != set(DEFAULT_ROLES):
        check_may_grant(actor)
    user = User(active=True)
    _set_facts(user, fields)
    if data.get("password"):
        # Whoever chose it, the person picks their own at first sign-in.
        user.password_hash = auth.hash_password(data["password"])
        user.must_change_password = True
    db.session.add(user)
    db.session.flush()
    for role in roles:
        grant_role(user, role, actor)
    after = user_snapshot(read_back(user))
    if user.password_hash:
        after["password changed"] = True
    record_audit("create", "user", user.id, after=after, actor=actor)
    people_changed.publish(cause="hire", user_ids=[user.id])
    db.session.commit()
    return user


def update_user(
    user_id: int,
    data: dict,
    actor: User | None = None,
    reason: str | None = None,
    keep_token: str | None = None,
) -> User:
    """Edit a person's facts and optionally set a new password.

    A new password ends every session of the person but `keep_token`'s (the caller's own,
    when people set their own password here); their API tokens stay.
    Raises NotFound, Invalid, Forbidden (a non-admin editing an admin).
    """
    user = get_user(user_id)
    check_may_change(user, actor)
    fields = validate_user_data(data, user)
    before = user_snapshot(user)
    changed = {k: v for k, v in fields.items() if before[k] != _comparable(v)}
    password = data.get("password") or ""
    if password and user.is_service_account:
        message = "A service account never signs in with a password."
        raise Invalid(message, {"password": [message]})
    if not changed and not password:
        return user
    _set_facts(user, changed)
    if password:
        user.password_hash = auth.hash_password(password)
        user.must_change_password = actor is None or actor.id != user.id
        auth.end_other_sessions(user, keep_token)
    # Read back after every change: the reset's must_change_password once went unrecorded.
    after = user_snapshot(read_back(user))
    if password:
        after["password changed"] = True
        after["other sessions ended"] = True
    why = (reason or "").strip()[:2000] or None
    record_audit("update", "user", user.id, before=before, after=after, reason=why, actor=actor)
    if REQUIREMENT_FIELDS & changed.keys():
        people_changed.publish(cause="role change", user_ids=[user.id])
    db.session.commit()
    return user


def set_user_roles(user_id: int, roles: list[str], actor: User | None = None) -> User:
    """Make a person's access roles exactly `roles`, auditing each grant and revoke.

    Raises NotFound, Invalid (unknown or no role), Forbidden (not an admin, or dropping
    one's own admin role).
    """
    check_may_grant(actor)
    user = get_user(user_id)
    wanted, unknown = parse_roles(list(roles or []))
    if unknown:
        raise Invalid("Unknown role.", {"roles": [f"Unknown role: {', '.join(unknown)}."]})
    if not wanted:
        raise Invalid("Pick a role.", {"roles": ["A person needs at least one role."]})
    if (
        actor is not None
        and actor.id == user.id
        and "admin" in user.roles
        and "admin" not in wanted
    ):
        raise Forbidden("You cannot remove your own admin role; ask another administrator.")
    current = {g.role: g for g in user.role_grants}
    for role in sorted(set(current) - set(wanted)):
        revoke_role(user, current[role], actor)
    for role in sorted(set(wanted) - set(current)):
        grant_role(user, role, actor)
    db.session.commit()
    return user


def deactivate_user(user_id: int, actor: User | None, reason: str) -> User:
    """Switch an account off and end all its sessions (never deletes).

    Raises NotFound, Invalid (no reason), Forbidden (own account, or an admin's as non-admin).
    """
    user = get_user(user_id)
    check_may_change(user, actor)
    reason = (reason or "").strip()
    if actor is not None and actor.id == user.id:
        raise Forbidden("You cannot deactivate your own account.")
    if not reason:
        raise Invalid("Give a reason.", {"reason": ["Say why the account is deactivated."]})
    if not user.active:
        return user
    before = user_snapshot(user)
    user.active = False
    user.deactivated_at = clock.now()
    auth.end_all_sessions(user.id)
    record_audit(
        "deactivate",
        "user",
        user.id,
        before=before,
        after=user_snapshot(read_back(user)),
        reason=reason[:2000],
        actor=actor,
    )
    db.session.commit()
    return user


def reactivate_user(user_id: int, actor: User | None, reason: str = "") -> User:
    """Switch a deactivated account back on. Raises NotFound, Forbidden."""
    user = get_user(user_id)
    check_may_change(user, actor)
    if user.active:
        return user
    before = user_snapshot(user)
    user.active = True
    user.deactivated_at = None
    record_audit(
        "reactivate",
        "user",
        user.id,
        before=before,
        after=user_snapshot(read_back(user)),
        reason=(reason or "").strip()[:2000] or None,
        actor=actor,
    )
    people_changed.publish(cause="reactivation", user_ids=[user.id])
    db.session.commit()
    return user


def delete_user(user_id: int, actor: User | None = None) -> None:
    """People are never deleted (their training records are evidence); deactivate instead."""
    raise Forbidden("People are never deleted; deactivate the account instead.")


@dataclass
class UserQuery:
    q: str = ""
    department_id: int | None = None
    team_id: int | None = None
    job_role_id: int | None = None
    role: str = ""
    active: bool | None = True
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args) -> UserQuery:
        """Build from request args, ignoring junk instead of failing."""

        def number(name):
            return as_id(str(args.get(name) or ""))

        page, per_page = clamp(args.get("page", 1), args.get("per_page", 20))
        status = args.get("status", "active")
        role = (args.get("role") or "").strip()
        return cls(
            q=(args.get("q") or "").strip()[:200],
            department_id=number("department"),
            team_id=number("team"),
            job_role_id=number("job_role"),
            role=role if role in ROLES else "",
            active={"active": True, "inactive": False}.get(status),
            page=page,
            per_page=per_page,
        )


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_users(query: UserQuery, page: int | None = None, per_page: int | None = None) -> Page:
    """Return a page of people matching every search word in name or email, with filters."""
    q = select(User).options(
        selectinload(User.department),
        selectinload(User.team),
        selectinload(User.job_role),
        selectinload(User.role_grants),
    )
    for word in query.q.lower().split()[:8]:
        pattern = f"%{_like_escape(word)}%"
        q = q.where(
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    if query.department_id:
        q = q.where(User.department_id == query.department_id)
    if query.team_id:
        q = q.where(User.team_id == query.team_id)
    if query.job_role_id:
        q = q.where(User.job_role_id == query.job_role_id)
    if query.role:
        q = q.where(
            select(UserRole.user_id)
            .where(UserRole.user_id == User.id, UserRole.role == query.role)
            .exists()
        )
    if query.active is not None:
        q = q.where(User.active.is_(query.active))
    q = q.order_by(User.name, User.id)
    return paginate(q, page or query.page, per_page or query.per_page)


def count_users_by_role(active_only: bool = True) -> dict[str, int]:
    """How many people hold each access role (every role present, zero included)."""
    q = select(UserRole.role, func.count()).group_by(UserRole.role)
    if active_only:
        q = q.join(User, User.id == UserRole.user_id).where(User.active.is_(True))
    counts = dict(db.session.execute(q).all())
    return {role: counts.get(role, 0) for role in ROLES}


@dataclass
class HistoryEntry:
    at: datetime
    actor_label: str
    action: str
    entity: str
    changes: list[str]
    reason: str | None


def _changes(row: AuditLog) -> list[str]:
    before, after = row.before or {}, row.after or {}
    if row.entity == "user_role":
        return [str((after or before).get("role", ""))]
    if row.action == "create":
        return []
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return keys


def user_history(user_id: int, limit: int = 20) -> list[HistoryEntry]:
    """The most recent audit rows about a person and their role grants, newest first."""
    rows = db.session.scalars(
        select(AuditLog)
        .where(AuditLog.entity.in_(("user", "user_role")), AuditLog.entity_id == str(user_id))
        .order_by(AuditLog.id.desc())
        .limit(limit)
    )
    return [
        HistoryEntry(r.at, r.actor_label, r.action, r.entity, _changes(r), r.reason) for r in rows
    ]
