"""The requirement engine: creates the assignments and enrollments the competency matrix calls
for, in a handful of INSERT ... SELECT statements whatever the size of the organisation;
running it twice creates nothing new. It runs on every relevant change (people.changed, a new
or widened requirement) and nightly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Date,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)

from app.compliance.models import (
    TrainingAssignment,
    Waiver,
)
from app.compliance.statuses import (
    OPEN_ENROLLMENT,
    R,
    Scope,
    applicable_pairs,
    slot_best,
    slot_courses,
    slot_primary,
    status_query,
)
from app.extensions import db
from app.learning.enrollments import next_cycle_sql
from app.learning.models import Course, Enrollment
from app.people.events import people_changed
from app.people.models import User
from app.platform import clock
from app.platform.audit import record_audit_for_inserted
from app.platform.job_runs import JobRun, advance, begin, fail, open_run
from app.platform.sql import FOREVER, add_days, upsert


@dataclass(frozen=True)
class EngineResult:
    assignments: int
    renewals: int
    enrollments: int


# Past this many new rows in one run, PostgreSQL's planner statistics are refreshed before the
# next statement: after a first run over a whole organisation they would say "empty table"
# and the planner would pick nested loops over hundreds of thousands of rows.
ANALYZE_AFTER_ROWS = 5000


def _refresh_statistics(inserted: int, model) -> None:
    if inserted >= ANALYZE_AFTER_ROWS and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(f"ANALYZE {model.__tablename__}"))


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
        upsert(TrainingAssignment)
        .from_select(cols, first)
        .on_conflict_do_nothing()
        .returning(TrainingAssignment.id)
    ).all()
    _refresh_statistics(len(created), TrainingAssignment)

    # 2. renewal assignments (the status's due date is the expiry once done: the latest
    # assignment's due date is read apart, to tell whether the renewal is assigned already)
    st = status_query(on, scope).subquery("st")
    TA = TrainingAssignment
    assigned_due = (
        select(func.max(TA.due_date))
        .where(TA.user_id == st.c.user_id, TA.requirement_id == st.c.requirement_id)
        .scalar_subquery()
    )
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
        assigned_due < st.c.valid_until,
    )
    renewed = db.session.execute(
        upsert(TrainingAssignment)
        .from_select(cols, renewal)
        .on_conflict_do_nothing()
        .returning(TrainingAssignment.id)
    ).all()

    # 3. enrollments, slot by slot
    enrolled = _enroll_slots(on, scope, now)
    _refresh_statistics(enrolled, Enrollment)

    reason = literal(f"requirement engine: {cause}")
    if created or renewed:
        record_audit_for_inserted(
            TrainingAssignment,
            "assignment",
            ["user_id", "requirement_id", "cycle", "due_date", "reason"],
            now,
            floor_assignment,
            reason,
            actor,
        )
    if enrolled:
        record_audit_for_inserted(
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
        upsert(Enrollment)
        .from_select(cols, _enrollment_candidates(on, scope, now))
        .on_conflict_do_nothing()
        .returning(Enrollment.id)
    ).all()
    return len(rows)


def _enrollment_candidates(on: date, scope: Scope, now):
    """The enrollments slots need, as hash joins over CTEs (no per-row lookups but the last
    cycle on its unique index)."""
    pairs = applicable_pairs(on, scope)
    best = slot_best(on, scope)
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
    candidates = (
        select(
            pairs.c.user_id,
            primary.c.course_id,
            next_cycle_sql(pairs.c.user_id, primary.c.course_id),
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


# A run over more people than this goes through a job run the admin can watch, in chunks of
# this many people, each committed with its progress (a first run over a whole organisation
# takes tens of seconds; pages keep answering between chunks).
ENGINE_RUN_KIND = "requirement_engine"


def chunk_size() -> int:
    from flask import current_app

    return max(1, int(current_app.config.get("ENGINE_CHUNK_PEOPLE", 1000)))


def request_engine_run(
    cause: str,
    user_ids: Sequence[int] | None = None,
    requirement_ids: Sequence[int] | None = None,
    requested_by_id: int | None = None,
) -> int | None:
    """Ask for an engine run after a change (a job with Redis, inline without it).

    Call after the change is committed, so the job sees it. A run over a requirement, the whole
    organisation or more people than one chunk is tracked: returns its job run's id.
    """
    from app.platform.jobs import enqueue

    run_id = None
    if user_ids is None or len(user_ids) > chunk_size():
        run_id = open_run(ENGINE_RUN_KIND, cause, requested_by_id).id
    enqueue(
        "compliance.run_engine",
        cause,
        list(user_ids) if user_ids is not None else None,
        list(requirement_ids) if requirement_ids is not None else None,
        run_id=run_id,
        queue="compliance",
    )
    return run_id


@dataclass(frozen=True)
class EngineRunView:
    """A job run of the engine as its page shows it, with who asked for it."""

    run: JobRun
    requested_by_name: str | None

    def __getattr__(self, name):
        return getattr(self.run, name)


def recent_engine_runs(limit: int = 3) -> list[EngineRunView]:
    """The engine's latest job runs, newest first (one query with the requesters' names)."""
    rows = db.session.execute(
        select(JobRun, User.name)
        .outerjoin(User, User.id == JobRun.requested_by_id)
        .where(JobRun.kind == ENGINE_RUN_KIND)
        .order_by(JobRun.created_at.desc(), JobRun.id.desc())
        .limit(limit)
    ).all()
    return [EngineRunView(run, name) for run, name in rows]


def run_engine_now(actor: User) -> int | None:
    """An admin's "run now" over the whole organisation; refused while a run is in progress."""
    from app.platform.errors import Conflict

    if any(view.active for view in recent_engine_runs(limit=1)):
        raise Conflict("The requirement engine is already running; wait until it has finished.")
    return request_engine_run(f"run by {actor.name}", requested_by_id=actor.id)


def people_in_scope(scope: Scope) -> int:
    return db.session.scalar(select(func.count(User.id)).where(*scope.user_filters())) or 0


def run_engine_in_chunks(run_id: int, scope: Scope, cause: str) -> EngineResult:
    """The engine over `scope`, a chunk of people per transaction, progress on job run `run_id`.

    The same rows as one run over the whole scope: the engine is idempotent and each person's
    assignments and enrollments depend on that person's records only.
    """
    from dataclasses import replace

    people = select(User.id).where(*scope.user_filters()).order_by(User.id)
    ids = list(db.session.scalars(people))
    begin(run_id, len(ids))
    size = chunk_size()
    totals = {"assignments": 0, "renewals": 0, "enrollments": 0}
    try:
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            result = run_requirement_engine(scope=replace(scope, user_ids=chunk), cause=cause)
            totals["assignments"] += result.assignments
            totals["renewals"] += result.renewals
            totals["enrollments"] += result.enrollments
            # After the chunk's own commit: the progress never runs ahead of the work.
            advance(run_id, start + len(chunk), totals)
            db.session.commit()
    except Exception as exc:
        fail(run_id, f"{type(exc).__name__}: {exc}")
        raise
    return EngineResult(**totals)


@people_changed.connect
def run_engine_for_people(cause: str, user_ids: list[int]) -> None:
    """people.changed: the engine assigns what the people's new place in the matrix calls for."""
    request_engine_run(cause, user_ids=user_ids)


def viewer_scope(viewer: User, scope: Scope = Scope()) -> Scope:
    """Narrow a scope to what `viewer` may see: everyone for HR/QA/admin, else direct reports."""
    from dataclasses import replace

    from app.people.permissions import can

    if can(viewer, "records.view_all"):
        return scope
    return replace(scope, manager_id=viewer.id)
