"""Waivers: HR requests an exemption from one requirement for one person, QA decides it.

pending -> approved | rejected (by QA, never by the requester or the waived person)
pending -> withdrawn (by the requester). Every transition is audited (entity "waiver").
An approved waiver counts as compliant from starts_on to ends_on (the status query reads it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import joinedload

from app.audit.signatures import sign, signed_content
from app.compliance.models import WAIVER_STATUSES, CompetencyRequirement, Waiver
from app.extensions import db
from app.people.models import User
from app.people.permissions import can
from app.people.sod import require_distinct
from app.platform import clock
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Forbidden, Invalid, NotFound
from app.platform.inputs import as_id, blank, to_date, to_id, to_text
from app.platform.pagination import Page, clamp, paginate

R = CompetencyRequirement
WAIVER_FIELDS = [
    "user_id",
    "requirement_id",
    "reason",
    "status",
    "starts_on",
    "ends_on",
    "requested_by_id",
    "decided_by_id",
    "decided_at",
    "decision_note",
]
MAX_SPAN_DAYS = 731  # two years, a leap day included
DECISIONS = {"approve": "approved", "reject": "rejected"}
# What a QA decision signature covers: the waiver as decided (decided_at is the signature's own
# time, so it is left out).
SIGNED_FIELDS = [f for f in WAIVER_FIELDS if f != "decided_at"] + ["id"]


@signed_content("waiver")
def _signed(waiver_id: str) -> dict | None:
    waiver = db.session.get(Waiver, as_id(waiver_id)) if as_id(waiver_id) else None
    return snapshot(waiver, SIGNED_FIELDS) if waiver is not None else None


def _options() -> list:
    req = joinedload(Waiver.requirement)
    # The people's role grants (selectin by default) are never shown here: skip loading them.
    return [
        joinedload(Waiver.user).lazyload(User.role_grants),
        joinedload(Waiver.requested_by).lazyload(User.role_grants),
        joinedload(Waiver.decided_by).lazyload(User.role_grants),
        req.joinedload(R.course),
        req.joinedload(R.curriculum),
        req.joinedload(R.job_role),
        req.joinedload(R.department),
        req.joinedload(R.team),
    ]


def get_waiver(waiver_id: int) -> Waiver:
    """Return one waiver with its people and requirement. Raises NotFound."""
    waiver = db.session.scalar(
        select(Waiver)
        .where(Waiver.id == waiver_id)
        .options(*_options())
        .execution_options(populate_existing=True)
    )
    if waiver is None:
        raise NotFound(f"Waiver {waiver_id} does not exist.")
    return waiver


def get_viewable_waiver(waiver_id: int, viewer: User) -> Waiver:
    """A waiver the viewer may see: HR/QA/admin all, managers their direct reports'.
    Raises NotFound, Forbidden."""
    waiver = get_waiver(waiver_id)
    if not can(viewer, "records.view_all") and waiver.user.manager_id != viewer.id:
        raise Forbidden("You may only see waivers of your direct reports.")
    return waiver


def _find_person(errors: dict, data: dict) -> int | None:
    """The waived person by `user_id`, or by `person` (an email) as the form sends it."""
    if not blank(data.get("user_id")):
        user_id = to_id(errors, "user_id", data.get("user_id"))
        user = db.session.get(User, user_id) if user_id else None
    else:
        from app.people.users import find_user_by_email

        email = data.get("person")
        user = find_user_by_email(email) if isinstance(email, str) and email.strip() else None
        if blank(email):
            errors["user_id"] = ["Required: the person (an active person's email)."]
            return None
    if "user_id" in errors:
        return None
    if user is None or not user.active:
        errors["user_id"] = ["No active person with this id or email."]
        return None
    return user.id


def validate_request(data: dict) -> dict[str, Any]:
    """Return the clean fields of a waiver request. Raises Invalid."""
    errors: dict[str, list[str]] = {}
    user_id = _find_person(errors, data)
    requirement_id = to_id(errors, "requirement_id", data.get("requirement_id"), required=True)
    if requirement_id is not None and db.session.get(R, requirement_id) is None:
        errors["requirement_id"] = ["No such requirement."]
    reason = to_text(errors, "reason", data.get("reason"), 2000, required=True)
    if "reason" in errors and errors["reason"] == ["Required."]:
        errors["reason"] = ["Required: why this person is exempt (kept in the record)."]
    today = clock.today()
    starts_on = to_date(errors, "starts_on", data.get("starts_on")) or (
        None if "starts_on" in errors else today
    )
    ends_on = to_date(errors, "ends_on", data.get("ends_on"), required=True)
    if starts_on and ends_on:
        if ends_on <= starts_on:
            errors["ends_on"] = ["Must be after the start date."]
        elif ends_on - starts_on > timedelta(days=MAX_SPAN_DAYS):
            errors["ends_on"] = ["A waiver lasts at most two years; request a new one after."]
        elif ends_on < today:
            errors["ends_on"] = ["Already past: a waiver must still be running."]
    if errors:
        raise Invalid("Some waiver fields are not valid.", errors)
    return {
        "user_id": user_id,
        "requirement_id": requirement_id,
        "reason": reason,
        "starts_on": starts_on,
        "ends_on": ends_on,
    }


def request_waiver(data: dict, actor: User) -> Waiver:
    """Record HR's request to waive one requirement for one person, pending QA's decision.

    Raises Invalid, Forbidden (role), Conflict (an overlapping pending or approved waiver).
    """
    if not can(actor, "waiver.request"):
        raise Forbidden("Only HR may request waivers.")
    clean = validate_request(data)
    overlapping = db.session.scalar(
        select(Waiver.id).where(
            Waiver.user_id == clean["user_id"],
            Waiver.requirement_id == clean["requirement_id"],
            Waiver.status.in_(("pending", "approved")),
            and_(Waiver.starts_on <= clean["ends_on"], Waiver.ends_on >= clean["starts_on"]),
        )
    )
    if overlapping is not None:
        raise Conflict(
            f"Waiver {overlapping} already covers part of this period for this person and "
            "requirement; withdraw it or wait for its decision."
        )
    waiver = Waiver(**clean, status="pending", requested_by_id=actor.id)
    db.session.add(waiver)
    db.session.flush()
    record_audit(
        "create", "waiver", waiver.id, after=snapshot(read_back(waiver), WAIVER_FIELDS), actor=actor
    )
    db.session.commit()
    return get_waiver(waiver.id)


def _transition(
    waiver: Waiver,
    status: str,
    action: str,
    actor: User,
    note: str | None,
    password: str | None = None,
):
    before = snapshot(waiver, WAIVER_FIELDS)
    if action != "withdraw":
        decided = before | {"id": waiver.id, "status": status}
        decided |= {"decided_by_id": actor.id, "decision_note": note}
        verb = "approve" if action == "approve" else "reject"
        sign(
            signer=actor,
            password=password,
            meaning="approved" if action == "approve" else "reviewed",
            entity="waiver",
            entity_id=waiver.id,
            statement=(
                f'I {verb} the waiver of "{waiver.requirement.target_title}" for {waiver.user.name}'
                f" from {waiver.starts_on.isoformat()} to {waiver.ends_on.isoformat()}."
            ),
            content={k: decided[k] for k in SIGNED_FIELDS},
            reason=note,
        )
    waiver.status = status
    if action != "withdraw":
        waiver.decided_by_id = actor.id
        waiver.decided_at = clock.now()
        waiver.decision_note = note
    record_audit(
        action,
        "waiver",
        waiver.id,
        before=before,
        after=snapshot(read_back(waiver), WAIVER_FIELDS),
        reason=note,
        actor=actor,
    )
    db.session.commit()
    return get_waiver(waiver.id)


def decide_waiver(
    waiver_id: int, decision: str, note: Any, actor: User, password: str | None = None
) -> Waiver:
    """Approve or reject a pending waiver (QA) with an electronic signature; a rejection needs
    a note.

    Raises NotFound, Invalid (fields, or the signature password), Forbidden (not QA, the
    requester, or the waived person), Conflict (not pending), RateLimited (must wait).
    """
    waiver = get_waiver(waiver_id)
    errors: dict[str, list[str]] = {}
    if decision not in DECISIONS:
        errors["decision"] = ["approve or reject"]
    text = to_text(errors, "note", note, 2000, required=decision == "reject")
    if errors.get("note") == ["Required."]:
        errors["note"] = ["Required when rejecting: say why."]
    if not can(actor, "waiver.approve"):
        raise Forbidden("Only QA may decide waivers.")
    why = "you requested this waiver; another QA person must decide it."
    require_distinct(waiver.requested_by_id, actor, why)
    require_distinct(waiver.user_id, actor, "nobody decides a waiver of their own training.")
    if waiver.status != "pending":
        raise Conflict(f"This waiver is already {waiver.status}.")
    if errors:
        raise Invalid("Some decision fields are not valid.", errors)
    return _transition(waiver, DECISIONS[decision], decision, actor, text, password)


def withdraw_waiver(waiver_id: int, actor: User) -> Waiver:
    """Withdraw a pending waiver (its requester only). Raises NotFound, Forbidden, Conflict."""
    waiver = get_waiver(waiver_id)
    if actor.id != waiver.requested_by_id:
        raise Forbidden("Only whoever requested this waiver may withdraw it.")
    if waiver.status != "pending":
        raise Conflict(f"This waiver is already {waiver.status}.")
    return _transition(waiver, "withdrawn", "withdraw", actor, None)


@dataclass
class WaiverQuery:
    status: str = ""
    user_id: int | None = None
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args) -> WaiverQuery:
        page, per_page = clamp(args.get("page"), args.get("per_page"))
        status = (args.get("status") or "").strip()
        return cls(
            status=status if status in WAIVER_STATUSES else "",
            user_id=to_id({}, "user_id", args.get("user_id")),
            page=page,
            per_page=per_page,
        )


def list_waivers(query: WaiverQuery, viewer: User) -> Page:
    """A page of waivers, pending first then newest; managers see their direct reports' only."""
    stmt = (
        select(Waiver)
        .options(*_options())
        .order_by(case((Waiver.status == "pending", 0), else_=1), Waiver.id.desc())
    )
    if not can(viewer, "records.view_all"):
        reports = select(User.id).where(User.manager_id == viewer.id)
        stmt = stmt.where(Waiver.user_id.in_(reports))
    if query.status:
        stmt = stmt.where(Waiver.status == query.status)
    if query.user_id:
        stmt = stmt.where(Waiver.user_id == query.user_id)
    return paginate(stmt, query.page, query.per_page)


def requirement_choices() -> list[tuple[int, str]]:
    """(id, label) of requirements in force today or later, for the request form."""
    today = clock.today()
    reqs = db.session.scalars(
        select(R)
        .where(or_(R.effective_to.is_(None), R.effective_to >= today))
        .options(
            joinedload(R.course),
            joinedload(R.curriculum),
            joinedload(R.job_role),
            joinedload(R.department),
            joinedload(R.team),
        )
        .order_by(R.id)
    )
    return [(r.id, f"#{r.id} {r.target_title} — {r.scope_name}") for r in reqs]


def is_active(waiver: Waiver, on: date | None = None) -> bool:
    on = on or clock.today()
    return waiver.status == "approved" and waiver.starts_on <= on <= waiver.ends_on
