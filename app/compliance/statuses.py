"""Compliance status, derived set-based: `status_query()` is the one derivation of "who is
trained on what"; every page, report, export and API endpoint reads compliance through it.

A requirement is met slot by slot: a course requirement has one slot (its course or any
substitute), a program requirement one slot per course of the program. It is done when every
slot has a completion; it stays valid until the earliest slot expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import (
    Date,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union_all,
)

from app.compliance.models import (
    CompetencyRequirement,
    CompetencySubstitute,
    Curriculum,
    CurriculumCourse,
    TrainingAssignment,
    Waiver,
)
from app.compliance.recertification import DUE_SOON_DAYS, valid_until_sql
from app.extensions import db
from app.learning.models import Course, Enrollment
from app.people.models import User
from app.platform.sql import add_days, forever, utc_date

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
        # Service accounts are never held to training.
        out = [User.active.is_(True), User.kind == "person"]
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


def slot_best(on: date, scope: Scope = Scope()):
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
    and unexpired, or waived), due_date (when the next completion is due: the expiry once done,
    else the latest assignment's due date), completed_on, valid_until (NULL: never expires),
    waiver_id, cycle (latest assignment), grace_days, window_days, and the person's
    department_id and job_role_id (what summaries count by, without joining users again).
    """
    pairs = applicable_pairs(on, scope)
    return _status_select(on, pairs, slot_best(on, scope), scope)


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
    # The one due date every page shows: once done, the renewal is due when the validity ends
    # (never, for a completion that does not expire); before that, the assignment's due date.
    # An older cycle's later due date must not make an expired completion look "due in a month".
    due = case(
        (is_done, case((done.c.valid_until < forever(), done.c.valid_until), else_=None)),
        else_=assigned.c.due_date,
    )
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
        (or_(assigned.c.due_date.is_(None), assigned.c.due_date > soon), "not_started"),
        (assigned.c.due_date >= on, "due_soon"),
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
