"""The competency matrix: create, change, end and delete requirements; list them; people's gaps.

Every change is audited (entity "requirement") in its own transaction; a change that can make
more people need more training asks for an engine run once it is committed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.compliance.engine import request_engine_run
from app.compliance.models import (
    DUE_BASES,
    RECERT_MODES,
    CompetencyRequirement,
    CompetencySubstitute,
    Curriculum,
    TrainingAssignment,
    Waiver,
)
from app.compliance.status_store import status_source
from app.compliance.statuses import Scope, effective_on
from app.extensions import db
from app.learning.models import Course
from app.people.models import RISK_LEVELS, Department, JobRole, Team, User
from app.platform import clock
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Invalid, NotFound
from app.platform.inputs import to_choice, to_date, to_id, to_id_list, to_int, to_text
from app.platform.pagination import Page, clamp, paginate

NO_REASON = object()  # update_requirement called without a reason (API clients may omit it)

R = CompetencyRequirement
SCOPE_FIELDS = ("job_role_id", "department_id", "team_id")
TARGET_FIELDS = ("course_id", "curriculum_id")
REQUIREMENT_FIELDS = [
    *SCOPE_FIELDS,
    *TARGET_FIELDS,
    "due_days",
    "due_basis",
    "recert_months",
    "recert_mode",
    "recert_anchor_month",
    "recert_window_days",
    "grace_days",
    "risk_level",
    "effective_from",
    "effective_to",
    "notes",
]
INPUT_FIELDS = (*REQUIREMENT_FIELDS, "substitutes")
DEFAULTS: dict[str, Any] = {
    "due_days": 30,
    "due_basis": "assignment",
    "recert_months": None,
    "recert_mode": "relative",
    "recert_anchor_month": None,
    "recert_window_days": 60,
    "grace_days": 0,
    "risk_level": "medium",
    "effective_to": None,
    "notes": "",
    "substitutes": [],
}
MAX_DAYS = 3650
SCOPE_MODELS = {"job_role_id": JobRole, "department_id": Department, "team_id": Team}
SCOPE_KINDS = {"job_role": "job_role_id", "department": "department_id", "team": "team_id"}
ENGINE_CAUSE_NEW = "new requirement"
ENGINE_CAUSE_CHANGED = "requirement changed"


def get_requirement(requirement_id: int) -> CompetencyRequirement:
    """Return one matrix row with its scope, target and substitutes. Raises NotFound."""
    req = db.session.scalar(
        select(R)
        .where(R.id == requirement_id)
        .options(*_row_options())
        .execution_options(populate_existing=True)
    )
    if req is None:
        raise NotFound(f"Requirement {requirement_id} does not exist.")
    return req


def _row_options() -> list:
    return [
        joinedload(R.job_role),
        joinedload(R.department),
        joinedload(R.team),
        joinedload(R.course),
        joinedload(R.curriculum),
        selectinload(R.substitutes).joinedload(CompetencySubstitute.course),
    ]


def requirement_snapshot(req: CompetencyRequirement) -> dict[str, Any]:
    """The audited state of a requirement, substitutes included."""
    out = snapshot(req, REQUIREMENT_FIELDS)
    out["substitutes"] = sorted(s.course_id for s in req.substitutes)
    return out


def _current(req: CompetencyRequirement | None) -> dict[str, Any]:
    if req is None:
        return {
            **DEFAULTS,
            **dict.fromkeys(SCOPE_FIELDS + TARGET_FIELDS),
            "effective_from": clock.today(),
        }
    out = {name: getattr(req, name) for name in REQUIREMENT_FIELDS}
    out["substitutes"] = [s.course_id for s in req.substitutes]
    return out


def _merge(data: dict, req: CompetencyRequirement | None) -> dict[str, Any]:
    """The fields after the change: unsent fields keep their value (or default).

    Sending any scope field replaces the whole scope, any target field the whole target, so
    `{"department_id": 3}` moves a job-role requirement to a department.
    """
    merged = _current(req)
    sent = {k: v for k, v in data.items() if k in INPUT_FIELDS}
    for group in (SCOPE_FIELDS, TARGET_FIELDS):
        if any(k in sent for k in group):
            for k in group:
                merged[k] = sent.get(k)
    for k, v in sent.items():
        if k not in SCOPE_FIELDS + TARGET_FIELDS:
            merged[k] = v
    return merged


def validate_requirement(data: dict, req: CompetencyRequirement | None = None) -> dict[str, Any]:
    """Return the clean fields (plus `substitutes`) of a new or changed row. Raises Invalid."""
    m = _merge(data, req)
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    for name in SCOPE_FIELDS + TARGET_FIELDS:
        out[name] = to_id(errors, name, m[name])
    chosen = [k for k in SCOPE_FIELDS if out[k] is not None or k in errors]
    if len(chosen) != 1:
        errors["scope"] = ["Pick exactly one of job role, department or team."]
    for name, model in SCOPE_MODELS.items():
        if out[name] is not None and db.session.get(model, out[name]) is None:
            errors[name] = [f"No such {name[:-3].replace('_', ' ')}."]
    targets = [k for k in TARGET_FIELDS if out[k] is not None or k in errors]
    if len(targets) != 1:
        errors["target"] = ["Pick exactly one target: a course or a program."]
    retarget = req is None or (out["course_id"], out["curriculum_id"]) != (
        req.course_id,
        req.curriculum_id,
    )
    for name, model, noun in (
        ("course_id", Course, "course"),
        ("curriculum_id", Curriculum, "program"),
    ):
        if out[name] is None:
            continue
        target = db.session.get(model, out[name])
        if target is None:
            errors[name] = [f"No such {noun}."]
        elif retarget and target.status == "retired":
            errors[name] = [f"This {noun} is retired; pick a current one."]

    out["due_days"] = to_int(errors, "due_days", m["due_days"], 0, MAX_DAYS, required=True)
    out["due_basis"] = to_choice(errors, "due_basis", m["due_basis"], DUE_BASES)
    out["recert_months"] = to_int(errors, "recert_months", m["recert_months"], 1, 120)
    out["recert_mode"] = to_choice(errors, "recert_mode", m["recert_mode"], RECERT_MODES)
    anchor = to_int(errors, "recert_anchor_month", m["recert_anchor_month"], 1, 12)
    if out["recert_mode"] == "calendar":
        if anchor is None and "recert_anchor_month" not in errors:
            errors["recert_anchor_month"] = [
                "Calendar mode needs the month (1-12) cycles fall due."
            ]
        out["recert_anchor_month"] = anchor
    else:
        out["recert_anchor_month"] = None  # only calendar cycles have an anchor month
    for name in ("recert_window_days", "grace_days"):
        out[name] = to_int(errors, name, m[name], 0, MAX_DAYS, required=True)
    out["risk_level"] = to_choice(errors, "risk_level", m["risk_level"], RISK_LEVELS)
    out["effective_from"] = to_date(errors, "effective_from", m["effective_from"], required=True)
    out["effective_to"] = to_date(errors, "effective_to", m["effective_to"])
    if (
        out["effective_from"]
        and out["effective_to"]
        and out["effective_to"] < out["effective_from"]
    ):
        errors["effective_to"] = ["Must be on or after the date it takes effect."]
    out["notes"] = to_text(errors, "notes", m["notes"], 2000) or ""

    subs = to_id_list(errors, "substitutes", m["substitutes"])
    if subs and "substitutes" not in errors:
        if out["curriculum_id"] is not None:
            errors["substitutes"] = ["Substitutes apply to course requirements only."]
        elif out["course_id"] in subs:
            errors["substitutes"] = ["A course cannot substitute for itself."]
        else:
            found = set(db.session.scalars(select(Course.id).where(Course.id.in_(subs))))
            missing = [str(c) for c in subs if c not in found]
            if missing:
                errors["substitutes"] = [f"No such course: {', '.join(missing)}."]
    out["substitutes"] = subs
    if errors:
        raise Invalid("Some requirement fields are not valid.", errors)
    return out


def _id(actor: User | None) -> int | None:
    return actor.id if actor is not None else None


def create_requirement(data: dict, actor: User | None = None) -> CompetencyRequirement:
    """Add a matrix row, audited; then run the engine for it. Raises Invalid."""
    clean = validate_requirement(data)
    subs = clean.pop("substitutes")
    req = R(**clean, created_by_id=actor.id if actor is not None else None)
    req.substitutes = [CompetencySubstitute(course_id=c) for c in subs]
    db.session.add(req)
    db.session.flush()
    record_audit(
        "create", "requirement", req.id, after=requirement_snapshot(read_back(req)), actor=actor
    )
    db.session.commit()
    request_engine_run(ENGINE_CAUSE_NEW, requirement_ids=[req.id], requested_by_id=_id(actor))
    return get_requirement(req.id)


def _set_substitutes(req: CompetencyRequirement, course_ids: list[int]) -> None:
    wanted = set(course_ids)
    for sub in list(req.substitutes):
        if sub.course_id not in wanted:
            req.substitutes.remove(sub)
    have = {s.course_id for s in req.substitutes}
    for course_id in course_ids:
        if course_id not in have:
            req.substitutes.append(CompetencySubstitute(course_id=course_id))


def _widens(before: dict, after: dict) -> bool:
    """Tell whether a change can make someone need training they did not need before."""
    if any(before[k] != after[k] for k in SCOPE_FIELDS + TARGET_FIELDS):
        return True
    if set(before["substitutes"]) - set(after["substitutes"]):
        return True
    if after["effective_from"] < before["effective_from"]:
        return True
    if before["effective_to"] is not None and (
        after["effective_to"] is None or after["effective_to"] > before["effective_to"]
    ):
        return True
    b_months, a_months = before["recert_months"], after["recert_months"]
    if a_months is not None and (b_months is None or a_months < b_months):
        return True
    if (before["recert_mode"], before["recert_anchor_month"]) != (
        after["recert_mode"],
        after["recert_anchor_month"],
    ):
        return True
    return after["recert_window_days"] > before["recert_window_days"]


def update_requirement(
    requirement_id: int, data: dict, actor: User | None = None, reason: Any = NO_REASON
) -> CompetencyRequirement:
    """Change a matrix row (fields not sent keep their value), audited with the reason for the
    correction; an unchanged save writes nothing. Runs the engine when the change can widen
    who must train on what. Raises NotFound, Invalid (the page's form must give a reason; API
    clients may)."""
    req = get_requirement(requirement_id)
    why = None
    if reason is not NO_REASON:
        errors: dict[str, list[str]] = {}
        why = to_text(errors, "reason", reason, 2000, required=True)
        if errors:
            message = "Say why you change this requirement; it is kept in the audit trail."
            try:
                validate_requirement(data, req)
            except Invalid as exc:
                raise Invalid(exc.detail, {**exc.errors, "reason": [message]}) from None
            raise Invalid("A reason is required.", {"reason": [message]})
    elif isinstance(data.get("reason"), str):
        why = data["reason"].strip()[:2000] or None
    clean = validate_requirement(data, req)
    before = requirement_snapshot(req)
    subs = clean.pop("substitutes")
    for key, value in clean.items():
        if getattr(req, key) != value:
            setattr(req, key, value)
    _set_substitutes(req, subs)
    after = requirement_snapshot(read_back(req))
    if after == before:
        db.session.rollback()
        return req
    record_audit(
        "update", "requirement", req.id, before=before, after=after, reason=why, actor=actor
    )
    db.session.commit()
    if _widens(_current_from(before), _current_from(after)):
        request_engine_run(
            ENGINE_CAUSE_CHANGED, requirement_ids=[req.id], requested_by_id=_id(actor)
        )
    return get_requirement(req.id)


def _current_from(snap: dict) -> dict:
    """A snapshot with its dates parsed back, for comparisons."""
    out = dict(snap)
    for name in ("effective_from", "effective_to"):
        if out[name] is not None:
            out[name] = date.fromisoformat(out[name])
    return out


def end_requirement(
    requirement_id: int, on: date | None = None, actor: User | None = None
) -> CompetencyRequirement:
    """Stop a requirement applying after `on` (default today) by setting its effective_to.

    History stays: its assignments, completions and waivers are kept.
    Raises NotFound, Invalid, Conflict (already ended by then).
    """
    req = get_requirement(requirement_id)
    on = on or clock.today()
    if on < req.effective_from:
        raise Invalid(
            "A requirement cannot end before it takes effect.",
            {"effective_to": [f"Must be on or after {req.effective_from.isoformat()}."]},
        )
    if req.effective_to is not None and req.effective_to <= on:
        raise Conflict(f"This requirement already ended on {req.effective_to.isoformat()}.")
    before = requirement_snapshot(req)
    req.effective_to = on
    record_audit(
        "end",
        "requirement",
        req.id,
        before=before,
        after=requirement_snapshot(read_back(req)),
        reason=f"ended on {on.isoformat()}",
        actor=actor,
    )
    db.session.commit()
    return get_requirement(req.id)


def delete_requirement(requirement_id: int, actor: User | None = None) -> None:
    """Delete a matrix row nobody was ever assigned under. Raises NotFound, Conflict."""
    req = get_requirement(requirement_id)
    assigned = db.session.scalar(
        select(func.count())
        .select_from(TrainingAssignment)
        .where(TrainingAssignment.requirement_id == req.id)
    )
    waivers = db.session.scalar(
        select(func.count()).select_from(Waiver).where(Waiver.requirement_id == req.id)
    )
    if assigned or waivers:
        raise Conflict(
            f"This requirement has {assigned} assignment(s) and {waivers} waiver(s), which the "
            "training record must keep. End it instead: set its effective-to date."
        )
    record_audit("delete", "requirement", req.id, before=requirement_snapshot(req), actor=actor)
    db.session.delete(req)
    db.session.commit()


# --- lists --------------------------------------------------------------------------------


@dataclass
class RequirementQuery:
    """What the matrix page and the API filter on."""

    scope_kind: str | None = None  # job_role, department, team
    scope_id: int | None = None
    course_id: int | None = None
    curriculum_id: int | None = None
    q: str = ""
    active_on: date | None = None
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_args(cls, args) -> RequirementQuery:
        """Read filters from request args; unusable values are ignored, not errors.

        `scope=job_role:3` and `target=course:5` / `target=program:2` (the page's menus) are
        accepted beside scope_kind/scope_id and course_id/program_id.
        """
        ignore: dict = {}
        kind = (args.get("scope_kind") or "").strip()
        scope_id = to_id(ignore, "scope_id", args.get("scope_id"))
        combined = (args.get("scope") or "").strip()
        if combined:
            kind, _, raw = combined.partition(":")
            scope_id = to_id(ignore, "scope", raw)
        course_id = to_id(ignore, "course_id", args.get("course_id"))
        program_id = to_id(ignore, "program_id", args.get("program_id"))
        target_kind, _, raw = (args.get("target") or "").partition(":")
        if target_kind == "course":
            course_id = to_id(ignore, "target", raw)
        elif target_kind == "program":
            program_id = to_id(ignore, "target", raw)
        page, per_page = clamp(args.get("page"), args.get("per_page"), 50)
        return cls(
            scope_kind=kind if kind in SCOPE_KINDS else None,
            scope_id=scope_id if kind in SCOPE_KINDS else None,
            course_id=course_id,
            curriculum_id=program_id,
            q=(args.get("q") or "").strip()[:100],
            active_on=to_date(ignore, "active_on", args.get("active_on")),
            page=page,
            per_page=per_page,
        )

    @property
    def scope(self) -> str:
        return f"{self.scope_kind}:{self.scope_id}" if self.scope_kind and self.scope_id else ""

    @property
    def target(self) -> str:
        if self.course_id:
            return f"course:{self.course_id}"
        return f"program:{self.curriculum_id}" if self.curriculum_id else ""


def list_requirements(query: RequirementQuery) -> Page:
    """A page of matrix rows with scope, target and substitutes loaded (three queries)."""
    stmt = select(R).options(*_row_options()).order_by(R.id)
    if query.scope_kind:
        column = getattr(R, SCOPE_KINDS[query.scope_kind])
        stmt = stmt.where(column == query.scope_id if query.scope_id else column.is_not(None))
    if query.course_id:
        stmt = stmt.where(R.course_id == query.course_id)
    if query.curriculum_id:
        stmt = stmt.where(R.curriculum_id == query.curriculum_id)
    if query.q:
        like = f"%{query.q}%"
        stmt = stmt.where(
            or_(
                R.course.has(or_(Course.title.ilike(like), Course.code.ilike(like))),
                R.curriculum.has(or_(Curriculum.title.ilike(like), Curriculum.code.ilike(like))),
            )
        )
    if query.active_on:
        stmt = stmt.where(effective_on(query.active_on))
    return paginate(stmt, query.page, query.per_page)


def scope_choices() -> dict[str, list[tuple[int, str]]]:
    """(id, name) per scope kind, for the menus."""
    teams = db.session.execute(
        select(Team.id, Team.name, Department.name)
        .join(Department, Department.id == Team.department_id)
        .order_by(Department.name, Team.name)
    )
    return {
        "job_role": [
            tuple(r)
            for r in db.session.execute(select(JobRole.id, JobRole.name).order_by(JobRole.name))
        ],
        "department": [
            tuple(r)
            for r in db.session.execute(
                select(Department.id, Department.name).order_by(Department.name)
            )
        ],
        "team": [(r[0], f"{r[2]} / {r[1]}") for r in teams],
    }


def target_choices() -> dict[str, list[tuple[int, str]]]:
    """(id, label) of courses and programs that are not retired, for the menus."""
    courses = db.session.execute(
        select(Course.id, Course.code, Course.title)
        .where(Course.status != "retired")
        .order_by(Course.title)
    )
    programs = db.session.execute(
        select(Curriculum.id, Curriculum.code, Curriculum.title)
        .where(Curriculum.status != "retired")
        .order_by(Curriculum.title)
    )
    return {
        "course": [(r.id, f"{r.title} ({r.code})") for r in courses],
        "program": [(r.id, f"{r.title} ({r.code})") for r in programs],
    }


# --- gaps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    requirement_id: int
    target_kind: str  # course or program
    target_id: int
    target_code: str
    target_title: str
    status: str
    due_date: date | None
    valid_until: date | None


@dataclass(frozen=True)
class PersonGaps:
    user_id: int
    name: str
    email: str
    gaps: list[Gap]


def gaps(on: date, scope: Scope = Scope(), page: int = 1, per_page: int = 20) -> Page:
    """A page of people (by name) who are not ok on some requirement, each with those
    requirements, from the status query. Two queries whatever the page size."""
    st = status_source(on, scope).subquery("st")
    people = (
        select(User.id, User.name, User.email, func.count().over().label("total"))
        .join(st, st.c.user_id == User.id)
        .where(st.c.ok == 0)
        .group_by(User.id, User.name, User.email)
        .order_by(User.name, User.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = db.session.execute(people).all()
    if not rows:
        total = 0
        if page > 1:
            distinct = select(st.c.user_id).where(st.c.ok == 0).distinct().subquery()
            total = db.session.scalar(select(func.count()).select_from(distinct)) or 0
        return Page(items=[], total=total, page=page, per_page=per_page)
    ids = [r.id for r in rows]
    narrowed = replace(scope, user_ids=ids)
    gst = status_source(on, narrowed).subquery("gst")
    detail = (
        select(
            gst.c.user_id,
            gst.c.requirement_id,
            gst.c.status,
            gst.c.due_date,
            gst.c.valid_until,
            R.course_id,
            R.curriculum_id,
            func.coalesce(Course.code, Curriculum.code).label("code"),
            func.coalesce(Course.title, Curriculum.title).label("title"),
        )
        .join(R, R.id == gst.c.requirement_id)
        .outerjoin(Course, Course.id == R.course_id)
        .outerjoin(Curriculum, Curriculum.id == R.curriculum_id)
        .where(gst.c.ok == 0)
        .order_by(gst.c.user_id, gst.c.requirement_id)
    )
    by_user: dict[int, list[Gap]] = {i: [] for i in ids}
    for r in db.session.execute(detail):
        by_user[r.user_id].append(
            Gap(
                requirement_id=r.requirement_id,
                target_kind="course" if r.course_id else "program",
                target_id=r.course_id or r.curriculum_id,
                target_code=r.code,
                target_title=r.title,
                status=r.status,
                due_date=_as_date(r.due_date),
                valid_until=_as_date(r.valid_until),
            )
        )
    items = [PersonGaps(r.id, r.name, r.email, by_user[r.id]) for r in rows]
    return Page(items=items, total=rows[0].total, page=page, per_page=per_page)


def _as_date(value) -> date | None:
    """SQLite hands computed dates back as text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
