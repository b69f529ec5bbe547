"""Compliance status and the requirement engine, both set-based SQL.

`status_query()` is the one derivation of "who is trained on what": every page, report, export
and API endpoint reads compliance through it. `run_requirement_engine()` creates the
assignments and enrollments the competency matrix calls for, in a handful of INSERT ... SELECT
statements whatever the size of the organisation; running it twice creates nothing new.

A requirement is met slot by slot: a course requirement has one slot (its course or any
substitute), a program requirement one slot per course of the program. It is done when every
slot has a completion; it stays valid until the earliest slot expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, timedelta

from flask import g
from sqlalchemy import (
    Date,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from app.extensions import db
from app.models import (
    CompetencyRequirement,
    CompetencySubstitute,
    Course,
    Curriculum,
    CurriculumCourse,
    Enrollment,
    TrainingAssignment,
    User,
    Waiver,
)
from app.platform import clock
from app.platform.audit import AuditLog, current_actor, system_label
from app.platform.sql import FOREVER, add_days, forever, json_object, utc_date
from app.services.recertification import DUE_SOON_DAYS, valid_until_sql

R = CompetencyRequirement
OPEN_ENROLLMENT = ("assigned", "in_progress")


@dataclass(frozen=True)
class Scope:
    """Which people and requirements a status query or engine run covers (None: all)."""

    user_ids: Sequence[int] | None = None
    department_id: int | None = None
    team_id: int | None = None
    job_role_id: int | None = None
    manager_id: int | None = None
    requirement_ids: Sequence[int] | None = None
    course_id: int | None = None

    def user_filters(self) -> list:
        out = [User.active.is_(True)]
        if self.user_ids is not None:
            out.append(User.id.in_(list(self.user_ids)))
        if self.department_id is not None:
            out.append(User.department_id == self.department_id)
        if self.team_id is not None:
            out.append(User.team_id == self.team_id)
        if self.job_role_id is not None:
            out.append(User.job_role_id == self.job_role_id)
        if self.manager_id is not None:
            out.append(User.manager_id == self.manager_id)
        return out

    def requirement_filters(self) -> list:
        out = []
        if self.requirement_ids is not None:
            out.append(R.id.in_(list(self.requirement_ids)))
        if self.course_id is not None:
            covered = select(CompetencySubstitute.requirement_id).where(
                CompetencySubstitute.course_id == self.course_id
            )
            in_program = select(CurriculumCourse.curriculum_id).where(
                CurriculumCourse.course_id == self.course_id
            )
            out.append(
                or_(
                    R.course_id == self.course_id,
                    R.id.in_(covered),
                    R.curriculum_id.in_(in_program),
                )
            )
        return out


def effective_on(on: date):
    return and_(R.effective_from <= on, or_(R.effective_to.is_(None), R.effective_to >= on))


def applicable_pairs(on: date, scope: Scope = Scope()):
    """(user_id, requirement_id) for every active person a requirement in force applies to,
    with the person's department and job role (what the summaries count by)."""
    parts = []
    for user_col, req_col in (
        (User.job_role_id, R.job_role_id),
        (User.department_id, R.department_id),
        (User.team_id, R.team_id),
    ):
        parts.append(
            select(
                User.id.label("user_id"),
                R.id.label("requirement_id"),
                User.department_id.label("department_id"),
                User.job_role_id.label("job_role_id"),
            )
            .join(R, req_col == user_col)
            .where(effective_on(on), *scope.user_filters(), *scope.requirement_filters())
        )
    return union_all(*parts).cte("pairs")


def slot_courses():
    """(requirement_id, slot, course_id): the courses that fill each slot of a requirement."""
    own = select(
        R.id.label("requirement_id"), literal(0).label("slot"), R.course_id.label("course_id")
    ).where(R.course_id.is_not(None))
    substitutes = select(
        CompetencySubstitute.requirement_id, literal(0), CompetencySubstitute.course_id
    )
    program = select(R.id, CurriculumCourse.course_id, CurriculumCourse.course_id).join(
        CurriculumCourse, CurriculumCourse.curriculum_id == R.curriculum_id
    )
    return union_all(own, substitutes, program).subquery("slot_courses")


def slot_primary():
    """(requirement_id, slot, course_id): the course the engine enrols people in per slot."""
    own = select(
        R.id.label("requirement_id"), literal(0).label("slot"), R.course_id.label("course_id")
    ).where(R.course_id.is_not(None))
    program = select(R.id, CurriculumCourse.course_id, CurriculumCourse.course_id).join(
        CurriculumCourse, CurriculumCourse.curriculum_id == R.curriculum_id
    )
    return union_all(own, program).subquery("slot_primary")


def slot_counts():
    primary = slot_primary()
    return (
        select(primary.c.requirement_id, func.count().label("slots"))
        .group_by(primary.c.requirement_id)
        .subquery("slot_counts")
    )


def _slot_best(on: date, scope: Scope = Scope()):
    """Per (user, requirement, slot): the latest expiry and completion among completions.

    Driven by the completions, not by the applicable pairs: there are far fewer of them, and
    every reader joins the result to its pairs anyway (a completion for a requirement that does
    not apply to its person finds no pair and drops out there).
    """
    sc = slot_courses()
    completed_on = utc_date(Enrollment.completed_at)
    months = func.coalesce(
        R.recert_months,
        case(
            (R.curriculum_id.is_not(None), Curriculum.validity_months),
            else_=Course.validity_months,
        ),
    )
    valid_until = valid_until_sql(
        completed_on,
        Enrollment.anchor_date,
        months,
        R.recert_mode,
        R.recert_anchor_month,
        R.recert_window_days,
    )
    return (
        select(
            Enrollment.user_id,
            sc.c.requirement_id,
            sc.c.slot,
            func.max(valid_until).label("valid_until"),
            func.max(completed_on).label("completed_on"),
        )
        .select_from(sc)
        .join(R, R.id == sc.c.requirement_id)
        .join(
            Enrollment,
            and_(
                Enrollment.course_id == sc.c.course_id,
                Enrollment.status == "completed",
                Enrollment.completed_at.is_not(None),
                # As of `on`: a completion after that day does not count yet.
                completed_on <= on,
                *scope_people(Enrollment.user_id, scope),
                *scope_units(Enrollment.user_id, scope),
            ),
        )
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(Curriculum, Curriculum.id == R.curriculum_id)
        .where(effective_on(on), *scope.requirement_filters())
        .group_by(Enrollment.user_id, sc.c.requirement_id, sc.c.slot)
        .cte("slot_best")
    )


def status_query(on: date, scope: Scope = Scope()):
    """The compliance status of every applicable (person, requirement), as one SELECT.

    Columns: user_id, requirement_id, status, ok (1 when the person counts as compliant: trained
    and unexpired, or waived), due_date, completed_on, valid_until (NULL: never expires),
    waiver_id, cycle (latest assignment), grace_days, window_days, and the person's
    department_id and job_role_id (what summaries count by, without joining users again).
    """
    pairs = applicable_pairs(on, scope)
    return _status_select(on, pairs, _slot_best(on, scope), scope)


def scope_people(column, scope: Scope) -> list:
    """Repeat a list of people on each joined table, so PostgreSQL reads their rows by index
    instead of hashing whole tables behind the (materialised) pairs CTE."""
    return [column.in_(list(scope.user_ids))] if scope.user_ids is not None else []


def scope_units(column, scope: Scope) -> list:
    """People of the scope's department, team, job role or manager (nothing when it has none)."""
    units = (scope.department_id, scope.team_id, scope.job_role_id, scope.manager_id)
    if scope.user_ids is None and any(unit is not None for unit in units):
        return [column.in_(select(User.id).where(*scope.user_filters()))]
    return []


def _assignment_scope(scope: Scope) -> list:
    """The assignments a scoped status query needs: its people's and its requirements'."""
    TA = TrainingAssignment
    out = [*scope_people(TA.user_id, scope), *scope_units(TA.user_id, scope)]
    if scope.requirement_ids is not None:
        out.append(TA.requirement_id.in_(list(scope.requirement_ids)))
    return out


def _status_select(on: date, pairs, best, scope: Scope = Scope()):
    counts = slot_counts()
    # The few requirement columns the status needs, with their slot counts: one join per pair.
    req = (
        select(R.id, R.grace_days, R.recert_window_days, counts.c.slots)
        .join(counts, counts.c.requirement_id == R.id)
        .subquery("req")
    )
    done = (
        select(
            best.c.user_id,
            best.c.requirement_id,
            func.count().label("done_slots"),
            func.min(best.c.valid_until).label("valid_until"),
            func.max(best.c.completed_on).label("completed_on"),
        )
        .group_by(best.c.user_id, best.c.requirement_id)
        .subquery("done")
    )
    # Grouped straight off the (user, requirement, cycle) key, in its order, then hash-joined
    # to the pairs: joining the pairs first meant sorting them all for a merge join.
    TA = TrainingAssignment
    assigned = (
        select(
            TA.user_id,
            TA.requirement_id,
            func.max(TA.due_date).label("due_date"),
            func.max(TA.cycle).label("cycle"),
        )
        .where(*_assignment_scope(scope))
        .group_by(TA.user_id, TA.requirement_id)
        .subquery("assigned")
    )
    # Waivers are few: grouped on their own and joined to the pairs like the rest, so the pairs
    # are read once and PostgreSQL can inline them instead of materialising 200k rows.
    waived = (
        select(
            Waiver.user_id,
            Waiver.requirement_id,
            func.max(Waiver.id).label("waiver_id"),
        )
        .where(
            Waiver.status == "approved",
            Waiver.starts_on <= on,
            Waiver.ends_on >= on,
            *scope_people(Waiver.user_id, scope),
        )
        .group_by(Waiver.user_id, Waiver.requirement_id)
        .subquery("waived")
    )
    is_done = and_(done.c.done_slots.is_not(None), done.c.done_slots >= req.c.slots)
    soon = on + timedelta(days=DUE_SOON_DAYS)
    due = assigned.c.due_date
    status = case(
        (waived.c.waiver_id.is_not(None), "waived"),
        (
            is_done,
            case(
                (done.c.valid_until > soon, "compliant"),
                (add_days(done.c.valid_until, req.c.grace_days) > on, "due_soon"),
                else_="expired",
            ),
        ),
        (or_(due.is_(None), due > soon), "not_started"),
        (due >= on, "due_soon"),
        else_="overdue",
    )
    ok = case(
        (waived.c.waiver_id.is_not(None), 1),
        (and_(is_done, add_days(done.c.valid_until, req.c.grace_days) > on), 1),
        else_=0,
    )
    return (
        select(
            pairs.c.user_id,
            pairs.c.requirement_id,
            status.label("status"),
            ok.label("ok"),
            due.label("due_date"),
            case((is_done, done.c.completed_on), else_=None).label("completed_on"),
            case(
                (and_(is_done, done.c.valid_until < forever()), done.c.valid_until),
                else_=literal(None, type_=Date),
            ).label("valid_until"),
            waived.c.waiver_id,
            assigned.c.cycle,
            req.c.grace_days,
            req.c.recert_window_days.label("window_days"),
            pairs.c.department_id,
            pairs.c.job_role_id,
        )
        .select_from(pairs)
        .join(req, req.c.id == pairs.c.requirement_id)
        .outerjoin(
            done,
            and_(
                done.c.user_id == pairs.c.user_id, done.c.requirement_id == pairs.c.requirement_id
            ),
        )
        .outerjoin(
            assigned,
            and_(
                assigned.c.user_id == pairs.c.user_id,
                assigned.c.requirement_id == pairs.c.requirement_id,
            ),
        )
        .outerjoin(
            waived,
            and_(
                waived.c.user_id == pairs.c.user_id,
                waived.c.requirement_id == pairs.c.requirement_id,
            ),
        )
    )


@dataclass(frozen=True)
class StatusRow:
    user_id: int
    requirement_id: int
    status: str
    ok: bool
    due_date: date | None
    completed_on: date | None
    valid_until: date | None
    waiver_id: int | None


def statuses(on: date, scope: Scope = Scope()) -> list[StatusRow]:
    """Every status row of a (small) scope, ordered by person then requirement."""
    q = status_query(on, scope).subquery()
    rows = db.session.execute(select(q).order_by(q.c.user_id, q.c.requirement_id)).all()
    return [
        StatusRow(
            r.user_id,
            r.requirement_id,
            r.status,
            bool(r.ok),
            r.due_date,
            r.completed_on,
            r.valid_until,
            r.waiver_id,
        )
        for r in rows
    ]


# --- the engine ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EngineResult:
    assignments: int
    renewals: int
    enrollments: int


def _insert(model):
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


# Past this many new rows in one run, PostgreSQL's planner statistics are refreshed before the
# next statement: after a first run over a whole organisation they would say "empty table"
# and the planner would pick nested loops over hundreds of thousands of rows.
ANALYZE_AFTER_ROWS = 5000


def _refresh_statistics(inserted: int, model) -> None:
    if inserted >= ANALYZE_AFTER_ROWS and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"ANALYZE {model.__tablename__}"))


def _audit_label(actor: User | None) -> tuple[int | None, str]:
    who = current_actor(actor)
    if who is None:
        return None, system_label()
    return who.id, f"{who.name} <{who.email}>"


def _audit_inserted(model, entity: str, fields: list[str], now, floor_id: int, reason, actor):
    """One audit row per row this run inserted (marked by its created_at), in one statement."""
    actor_id, label = _audit_label(actor)
    columns = []
    for name in fields:
        columns += [literal_column(f"'{name}'"), getattr(model, name)]
    rows = select(
        literal(now, type_=AuditLog.at.type),
        literal(actor_id, type_=AuditLog.actor_id.type),
        literal(label),
        literal("create"),
        literal(entity),
        cast(model.id, String),
        json_object(*columns),
        reason,
    ).where(model.id > floor_id, model.created_at == now)
    db.session.execute(
        _insert(AuditLog).from_select(
            ["at", "actor_id", "actor_label", "action", "entity", "entity_id", "after", "reason"],
            rows,
        )
    )
    g.cadre_audit_written = True  # sealed into the hash chain when the job ends


def run_requirement_engine(
    on: date | None = None,
    scope: Scope = Scope(),
    cause: str = "nightly run",
    actor: User | None = None,
) -> EngineResult:
    """Create the assignments and enrollments the competency matrix calls for; idempotent.

    1. A first assignment for every applicable (person, requirement) that has none, due N days
       after hire or after today by the requirement's due basis.
    2. A renewal assignment when a completion's expiry falls inside the recertification
       window and no assignment is yet due on or after that expiry.
    3. An enrollment in each slot's course where the slot has no valid completion (or one
       inside the renewal window) and no enrollment still open: the next cycle, due when the
       assignment is, anchored at the old expiry for renewals.
    Each inserted row gets its audit row. Waived requirements get no new enrollments.
    """
    on = on or clock.today()
    now = clock.now()
    floor_assignment = db.session.scalar(select(func.max(TrainingAssignment.id))) or 0
    floor_enrollment = db.session.scalar(select(func.max(Enrollment.id))) or 0

    # 1. first assignments
    first = _first_assignments(on, scope, now, cause)
    cols = ["user_id", "requirement_id", "cycle", "due_date", "reason", "created_at"]
    created = db.session.execute(
        _insert(TrainingAssignment)
        .from_select(cols, first)
        .on_conflict_do_nothing()
        .returning(TrainingAssignment.id)
    ).all()
    _refresh_statistics(len(created), TrainingAssignment)

    # 2. renewal assignments
    st = status_query(on, scope).subquery("st")
    renewal = select(
        st.c.user_id,
        st.c.requirement_id,
        st.c.cycle + 1,
        st.c.valid_until,
        literal("recertification"),
        literal(now, type_=TrainingAssignment.created_at.type),
    ).where(
        st.c.valid_until.is_not(None),
        st.c.waiver_id.is_(None),
        st.c.cycle.is_not(None),
        add_days(literal(on, type_=Date), st.c.window_days) >= st.c.valid_until,
        st.c.due_date < st.c.valid_until,
    )
    renewed = db.session.execute(
        _insert(TrainingAssignment)
        .from_select(cols, renewal)
        .on_conflict_do_nothing()
        .returning(TrainingAssignment.id)
    ).all()

    # 3. enrollments, slot by slot
    enrolled = _enroll_slots(on, scope, now)
    _refresh_statistics(enrolled, Enrollment)

    reason = literal(f"requirement engine: {cause}")
    if created or renewed:
        _audit_inserted(
            TrainingAssignment,
            "assignment",
            ["user_id", "requirement_id", "cycle", "due_date", "reason"],
            now,
            floor_assignment,
            reason,
            actor,
        )
    if enrolled:
        _audit_inserted(
            Enrollment,
            "enrollment",
            ["user_id", "course_id", "cycle", "source", "due_date", "status", "anchor_date"],
            now,
            floor_enrollment,
            reason,
            actor,
        )
    db.session.commit()
    return EngineResult(assignments=len(created), renewals=len(renewed), enrollments=enrolled)


def _first_assignments(on: date, scope: Scope, now, cause: str):
    """Cycle 1 for every applicable pair, due by the requirement's basis.

    Pairs that have one already are skipped by the unique (user, requirement, cycle) key in
    the INSERT's ON CONFLICT, not by an anti-join: an anti-join on the table being filled
    degrades to a quadratic scan when its statistics still say "empty" (the first run).
    """
    pairs = applicable_pairs(on, scope)
    # "hire": N days after the hire date, or after the requirement came into force for people
    # hired before it (nobody is overdue on day one of a new requirement because of an old hire).
    started = case((User.hire_date > R.effective_from, User.hire_date), else_=R.effective_from)
    due = case(
        (
            and_(R.due_basis == "hire", User.hire_date.is_not(None)),
            add_days(started, R.due_days),
        ),
        else_=add_days(literal(on, type_=Date), R.due_days),
    )
    first = (
        select(
            pairs.c.user_id,
            pairs.c.requirement_id,
            literal(1),
            due,
            literal(cause[:40]),
            literal(now, type_=TrainingAssignment.created_at.type),
        )
        .select_from(pairs)
        .join(R, R.id == pairs.c.requirement_id)
        .join(User, User.id == pairs.c.user_id)
    )
    return first


def _enroll_slots(on: date, scope: Scope, now) -> int:
    """Insert the enrollments slots need; returns how many."""
    cols = [
        "user_id",
        "course_id",
        "cycle",
        "source",
        "due_date",
        "anchor_date",
        "status",
        "created_at",
    ]
    rows = db.session.execute(
        _insert(Enrollment)
        .from_select(cols, _enrollment_candidates(on, scope, now))
        .on_conflict_do_nothing()
        .returning(Enrollment.id)
    ).all()
    return len(rows)


def _enrollment_candidates(on: date, scope: Scope, now):
    """The enrollments slots need, as hash joins over CTEs (no per-row lookups but the last
    cycle on its unique index)."""
    pairs = applicable_pairs(on, scope)
    best = _slot_best(on, scope)
    primary = slot_primary()
    sc = slot_courses()
    open_slots = (
        select(pairs.c.user_id, sc.c.requirement_id, sc.c.slot)
        .select_from(pairs)
        .join(sc, sc.c.requirement_id == pairs.c.requirement_id)
        .join(
            Enrollment,
            and_(
                Enrollment.user_id == pairs.c.user_id,
                Enrollment.course_id == sc.c.course_id,
                Enrollment.status.in_(OPEN_ENROLLMENT),
            ),
        )
        .group_by(pairs.c.user_id, sc.c.requirement_id, sc.c.slot)
        .cte("open_slots")
    )
    due = (
        select(
            pairs.c.user_id,
            pairs.c.requirement_id,
            func.max(TrainingAssignment.due_date).label("due_date"),
        )
        .select_from(pairs)
        .join(
            TrainingAssignment,
            and_(
                TrainingAssignment.user_id == pairs.c.user_id,
                TrainingAssignment.requirement_id == pairs.c.requirement_id,
            ),
        )
        .group_by(pairs.c.user_id, pairs.c.requirement_id)
        .cte("due")
    )
    waived = exists().where(
        Waiver.user_id == pairs.c.user_id,
        Waiver.requirement_id == pairs.c.requirement_id,
        Waiver.status == "approved",
        Waiver.starts_on <= on,
        Waiver.ends_on >= on,
    )
    slot_valid = best.c.valid_until
    renewing = and_(
        slot_valid.is_not(None),
        slot_valid < literal(FOREVER, type_=Date),
        add_days(literal(on, type_=Date), R.recert_window_days) >= slot_valid,
    )
    needs = or_(slot_valid.is_(None), renewing)
    last_cycle = (
        select(func.coalesce(func.max(Enrollment.cycle), 0))
        .where(Enrollment.user_id == pairs.c.user_id, Enrollment.course_id == primary.c.course_id)
        .scalar_subquery()
    )
    candidates = (
        select(
            pairs.c.user_id,
            primary.c.course_id,
            last_cycle + 1,
            literal("requirement"),
            case((renewing, slot_valid), else_=due.c.due_date),
            case((renewing, slot_valid), else_=literal(None, type_=Date)),
            literal("assigned"),
            literal(now, type_=Enrollment.created_at.type),
        )
        .select_from(pairs)
        .join(R, R.id == pairs.c.requirement_id)
        .join(primary, primary.c.requirement_id == pairs.c.requirement_id)
        .join(Course, Course.id == primary.c.course_id)
        .outerjoin(
            best,
            and_(
                best.c.user_id == pairs.c.user_id,
                best.c.requirement_id == pairs.c.requirement_id,
                best.c.slot == primary.c.slot,
            ),
        )
        .outerjoin(
            open_slots,
            and_(
                open_slots.c.user_id == pairs.c.user_id,
                open_slots.c.requirement_id == pairs.c.requirement_id,
                open_slots.c.slot == primary.c.slot,
            ),
        )
        .outerjoin(
            due,
            and_(due.c.user_id == pairs.c.user_id, due.c.requirement_id == pairs.c.requirement_id),
        )
        .where(
            open_slots.c.user_id.is_(None),
            ~waived,
            Course.status == "published",
            needs,
        )
    )
    return candidates


def request_engine_run(
    cause: str,
    user_ids: Sequence[int] | None = None,
    requirement_ids: Sequence[int] | None = None,
) -> None:
    """Ask for an engine run after a change (a job with Redis, inline without it).

    Call after the change is committed, so the job sees it.
    """
    from app.platform.jobs import enqueue

    enqueue(
        "compliance.run_engine",
        cause,
        list(user_ids) if user_ids is not None else None,
        list(requirement_ids) if requirement_ids is not None else None,
        queue="compliance",
    )


def viewer_scope(viewer: User, scope: Scope = Scope()) -> Scope:
    """Narrow a scope to what `viewer` may see: everyone for HR/QA/admin, else direct reports."""
    from dataclasses import replace

    from app.permissions import can

    if can(viewer, "records.view_all"):
        return scope
    return replace(scope, manager_id=viewer.id)


# --- snapshots (the 12-month trend) -----------------------------------------------------------


def snapshot_counts(
    on: date, scope: Scope = Scope()
) -> list[tuple[int | None, int | None, int, int]]:
    """(department_id, job_role_id, applicable, compliant) per department, per job role and
    for the whole organisation (both NULL), as of `on`."""
    st = status_query(on, scope).subquery("st")
    base = (
        select(User.department_id, User.job_role_id, st.c.ok)
        .select_from(st)
        .join(User, User.id == st.c.user_id)
        .subquery("base")
    )
    counted = (func.count(), func.coalesce(func.sum(base.c.ok), 0))
    applicable, compliant = db.session.execute(select(*counted)).one()
    out = [(None, None, applicable, int(compliant))]
    for column in (base.c.department_id, base.c.job_role_id):
        q = select(column, *counted).where(column.is_not(None)).group_by(column)
        for key, applicable, compliant in db.session.execute(q).all():
            dept = key if column is base.c.department_id else None
            role = key if column is base.c.job_role_id else None
            out.append((dept, role, applicable, int(compliant)))
    return out


def take_snapshot(on: date | None = None) -> int:
    """Store today's counts (replacing any taken earlier the same day); returns rows stored."""
    from sqlalchemy import delete

    from app.models import ComplianceSnapshot

    on = on or clock.today()
    rows = snapshot_counts(on)
    db.session.execute(delete(ComplianceSnapshot).where(ComplianceSnapshot.taken_on == on))
    db.session.add_all(
        ComplianceSnapshot(
            taken_on=on,
            department_id=dept,
            job_role_id=role,
            applicable=applicable,
            compliant=compliant,
        )
        for dept, role, applicable, compliant in rows
    )
    db.session.commit()
    return len(rows)


def backfill_snapshots(months: int = 12, on: date | None = None) -> int:
    """Take a snapshot for each of the last `months` month ends that has none (a new install's
    trend); counts use today's organisation. Returns how many month ends were filled."""
    from app.models import ComplianceSnapshot

    on = on or clock.today()
    filled = 0
    first = on.replace(day=1)
    for _ in range(months):
        end = first - timedelta(days=1)
        first = end.replace(day=1)
        has_one = db.session.scalar(
            select(ComplianceSnapshot.id).where(
                ComplianceSnapshot.taken_on >= first, ComplianceSnapshot.taken_on <= end
            )
        )
        if has_one is None:
            take_snapshot(end)
            filled += 1
    return filled


# --- reads memoised until the records change -------------------------------------------------


def records_generation() -> int:
    """The newest audit row's id: every change that can move a compliance status (a completion,
    an engine run, a waiver, a requirement, a person's role) writes one in its transaction, so
    a read computed at generation N stays right until the trail moves past N."""
    from app.platform.audit import AuditLog

    return db.session.scalar(select(func.max(AuditLog.id))) or 0


# Sort and hash memory for the organisation-wide status derivations: at the default 4 MB the
# pairs (200k at 10,000 people) spill to disk and hash joins split into batches.
READ_WORK_MEM = "32MB"


@contextmanager
def pg_setting(name: str, value: str):
    """Run the block with a PostgreSQL setting changed, then put it back (no-op elsewhere).

    A plain SET, not SET LOCAL: page reads run outside a transaction (app/dbpool.py). If the
    block fails inside a transaction, that transaction's rollback undoes the SET instead.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    db.session.execute(text(f"SET {name} = '{value}'"))
    try:
        yield
    finally:
        with suppress(DBAPIError):  # an aborted transaction: its rollback resets the setting
            db.session.execute(text(f"RESET {name}"))


def until_records_change(fn):
    """Memoise a compliance read per app process until the audit trail moves (or a TTL).

    Full-organisation status derivations cost a second on 200k pairs; dashboards and the
    matrix repeat the same reads far more often than training records change. Arguments must
    be hashable (dates, frozen Scopes, ints); anything else is computed uncached.
    """
    import time
    from functools import wraps

    from flask import current_app

    def compute(*args, **kwargs):
        with pg_setting("work_mem", READ_WORK_MEM):
            return fn(*args, **kwargs)

    @wraps(fn)
    def wrapper(*args, **kwargs):
        seconds = current_app.config.get("COMPLIANCE_CACHE_SECONDS", 600)
        if not seconds:
            return compute(*args, **kwargs)
        try:
            key = (fn.__qualname__, args, tuple(sorted(kwargs.items())))
            hash(key)
        except TypeError:
            return compute(*args, **kwargs)
        cache = current_app.extensions.setdefault("cadre_compliance_reads", {})
        generation, now = records_generation(), time.monotonic()
        hit = cache.get(key)
        if hit is not None and hit[0] == generation and now - hit[1] < seconds:
            return hit[2]
        value = compute(*args, **kwargs)
        if len(cache) >= 512:
            cache.clear()
        cache[key] = (generation, now, value)
        return value

    return wrapper
