"""Enrollments and progress: enrol people, record module progress, apply the completion rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.learning.events import enrollment_completed
from app.learning.models import (
    ENROLLMENT_SOURCES,
    PROGRESS_STATUSES,
    Course,
    Enrollment,
    Module,
    Progress,
)
from app.people.models import NOT_A_PERSON, Department, Team, User
from app.people.permissions import can
from app.platform import clock
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Forbidden, Invalid, NotFound
from app.platform.inputs import as_id
from app.platform.jobs import enqueue
from app.platform.sql import upsert

ENROLLMENT_AUDIT = [
    "user_id",
    "course_id",
    "cycle",
    "source",
    "due_date",
    "status",
    "score",
    "started_at",
    "completed_at",
]
PROGRESS_AUDIT = ["enrollment_id", "module_id", "status", "percent"]
# Enrollments a learner is still working on; a new enrollment is never made beside one of these.
OPEN_STATUSES = ("assigned", "in_progress")


def mark_started(enrollment: Enrollment, actor: User | None = None, now=None) -> None:
    """The learner's first step: assigned -> in progress, audited (the caller commits)."""
    if enrollment.status != "assigned":
        return
    before = snapshot(enrollment, ENROLLMENT_AUDIT)
    enrollment.status = "in_progress"
    enrollment.started_at = now or clock.now()
    record_audit(
        "update",
        "enrollment",
        enrollment.id,
        before=before,
        after=snapshot(read_back(enrollment), ENROLLMENT_AUDIT),
        reason="started",
        actor=actor,
    )


def get_enrollment(enrollment_id: int) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise NotFound(f"Enrollment {enrollment_id} does not exist.")
    return enrollment


def current_enrollment(user_id: int, course_id: int) -> Enrollment | None:
    """The person's latest enrollment (highest cycle) in a course, if any."""
    return db.session.scalar(
        select(Enrollment)
        .where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
        .order_by(Enrollment.cycle.desc())
        .limit(1)
    )


def enroll_user(
    user_id: int,
    course_id: int,
    actor: User | None = None,
    due_date: date | None = None,
    source: str = "self",
) -> tuple[Enrollment, bool]:
    """Enrol a person in a course; enrolling again returns the existing enrollment.

    Returns (enrollment, created). Raises NotFound, Invalid, Conflict (course not published).
    """
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound(f"User {user_id} does not exist or is deactivated.")
    if user.is_service_account:
        raise Invalid(NOT_A_PERSON, {"user_id": [NOT_A_PERSON]})
    course = db.session.get(Course, course_id)
    if course is None:
        raise Invalid("Unknown course.", {"course_id": [f"Course {course_id} does not exist."]})
    if source not in ENROLLMENT_SOURCES:
        raise Invalid("Unknown source.", {"source": [f"One of: {', '.join(ENROLLMENT_SOURCES)}."]})
    existing = current_enrollment(user_id, course_id)
    if existing is not None:
        return existing, False
    if course.status != "published":
        raise Conflict("Only published courses take enrollments.")
    enrollment = Enrollment(
        user_id=user_id,
        course_id=course_id,
        cycle=1,
        source=source,
        due_date=due_date,
        assigned_by_id=actor.id if actor and actor.id != user_id else None,
        status="assigned",
    )
    db.session.add(enrollment)
    try:
        db.session.flush()
    except IntegrityError:
        # Two requests raced; the unique (user, course, cycle) row of the winner stands.
        db.session.rollback()
        return current_enrollment(user_id, course_id), False
    record_audit(
        "create",
        "enrollment",
        enrollment.id,
        after=snapshot(read_back(enrollment), ENROLLMENT_AUDIT),
        actor=actor,
    )
    db.session.commit()
    return enrollment, True


def _progress_row(enrollment: Enrollment, module: Module) -> Progress:
    row = db.session.scalar(
        select(Progress).where(
            Progress.enrollment_id == enrollment.id, Progress.module_id == module.id
        )
    )
    if row is None:
        row = Progress(
            enrollment_id=enrollment.id,
            module_id=module.id,
            status="not_started",
            percent=0,
            time_spent_seconds=0,
        )
        db.session.add(row)
    return row


def record_progress(
    enrollment_id: int,
    module_id: int,
    *,
    status: str | None = None,
    percent: int | None = None,
    position: float | None = None,
    time_spent_seconds: int | None = None,
    actor: User | None = None,
) -> Progress:
    """Record how far a learner is in a module, then apply the completion rule.

    Percent never goes backwards and a completed module stays completed (replays are harmless).
    Raises NotFound, Invalid (bad values, module of another course, quiz completion by hand).
    """
    enrollment = get_enrollment(enrollment_id)
    module = db.session.get(Module, module_id)
    if module is None or module.course_id != enrollment.course_id:
        raise Invalid("Unknown module.", {"module_id": ["Not a module of this course."]})
    errors: dict[str, list[str]] = {}
    if status is not None and status not in PROGRESS_STATUSES:
        errors["status"] = [f"One of: {', '.join(PROGRESS_STATUSES)}."]
    if percent is not None and (
        isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100
    ):
        errors["percent"] = ["A whole number from 0 to 100."]
    if position is not None and (
        isinstance(position, bool) or not isinstance(position, (int, float)) or position < 0
    ):
        errors["position"] = ["A number of seconds or a page, 0 or more."]
    if time_spent_seconds is not None and (
        isinstance(time_spent_seconds, bool)
        or not isinstance(time_spent_seconds, int)
        or not 0 <= time_spent_seconds <= 86400
    ):
        errors["time_spent_seconds"] = ["Whole seconds from 0 to 86400."]
    if module.kind in ("quiz", "assignment", "sop") and (status == "completed" or percent == 100):
        errors["status"] = ["Quizzes and assignments complete when graded, SOPs when signed."]
    if errors:
        raise Invalid("Some progress fields are not valid.", errors)
    if enrollment.status in ("waived", "expired"):
        raise Conflict(f"This enrollment is {enrollment.status}; progress is closed.")

    row = _progress_row(enrollment, module)
    before = snapshot(row, PROGRESS_AUDIT) if row.id else None
    if percent is not None:
        row.percent = max(row.percent or 0, percent)
    if position is not None:
        row.position = float(position)
    if time_spent_seconds is not None:
        row.time_spent_seconds = (row.time_spent_seconds or 0) + time_spent_seconds
    if status == "completed" or row.percent >= 100:
        _complete_progress(row)
    elif row.status == "not_started" and (status == "in_progress" or row.percent > 0 or position):
        row.status = "in_progress"
    mark_started(enrollment, actor)
    db.session.flush()
    after = snapshot(read_back(row), PROGRESS_AUDIT)
    # Audit the moves that matter for the record (started, completed), not every video tick.
    if before is None or before["status"] != after["status"]:
        record_audit(
            "update" if before else "create",
            "progress",
            row.id,
            before=before,
            after=after,
            actor=actor,
        )
    db.session.commit()
    evaluate_completion(enrollment.id, actor=actor)
    return row


def _complete_progress(row: Progress) -> None:
    if row.status != "completed":
        row.status = "completed"
        row.percent = 100
        row.completed_at = clock.now()


def complete_module(enrollment_id: int, module_id: int, actor: User | None = None) -> None:
    """Mark a graded module (quiz, assignment, scenario) completed; the caller commits."""
    enrollment = get_enrollment(enrollment_id)
    module = db.session.get(Module, module_id)
    row = _progress_row(enrollment, module)
    _complete_progress(row)
    mark_started(enrollment, actor)


def evaluate_completion(enrollment_id: int, actor: User | None = None) -> bool:
    """Complete the enrollment once every required module is done and the passing score is met.

    The score is the mean of the best graded score (percent) of each graded module. On
    completion learning.enrollment_completed follows the commit (its handler starts the
    certificate job). Safe to call any number of times.
    """
    enrollment = get_enrollment(enrollment_id)
    if enrollment.status not in OPEN_STATUSES:
        return enrollment.status == "completed"
    course = enrollment.course
    required = db.session.scalar(
        select(func.count())
        .select_from(Module)
        .where(Module.course_id == course.id, Module.required.is_(True))
    )
    done = db.session.scalar(
        select(func.count())
        .select_from(Progress)
        .join(Module, Module.id == Progress.module_id)
        .where(
            Progress.enrollment_id == enrollment.id,
            Progress.status == "completed",
            Module.required.is_(True),
        )
    )
    if required == 0 or done < required:
        return False
    score = course_score(enrollment.id)
    if score is not None and score < course.passing_score:
        return False
    before = snapshot(enrollment, ENROLLMENT_AUDIT)
    enrollment.status = "completed"
    enrollment.completed_at = clock.now()
    enrollment.score = score
    record_audit(
        "update",
        "enrollment",
        enrollment.id,
        before=before,
        after=snapshot(read_back(enrollment), ENROLLMENT_AUDIT),
        reason="completion rule met",
        actor=actor,
    )
    publish_completed(enrollment)
    db.session.commit()
    return True


def publish_completed(enrollment: Enrollment) -> None:
    """Announce a completion once the caller's transaction commits (every path that completes
    an enrollment calls this)."""
    enrollment_completed.publish(
        enrollment_id=enrollment.id, user_id=enrollment.user_id, course_id=enrollment.course_id
    )


@enrollment_completed.connect
def start_certificate(enrollment_id: int, user_id: int, course_id: int) -> None:
    """learning.enrollment_completed: issue the certificate (a job, once per enrollment)."""
    enqueue(
        "certificates.issue_for_enrollment",
        enrollment_id,
        job_id=f"certificate-enrollment-{enrollment_id}",
    )


def next_cycle_sql(user_id, course_id):
    """The next free cycle (1 for a first enrollment) of a person in a course, as SQL over the
    given columns or values: the one rule of every path that opens a new cycle."""
    last = (
        select(func.coalesce(func.max(Enrollment.cycle), 0))
        .where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
        .scalar_subquery()
    )
    return last + 1


def next_cycle(user_id: int, course_id: int) -> int:
    """The next free cycle of `user_id` in `course_id` (1 for a first enrollment)."""
    return db.session.scalar(select(next_cycle_sql(user_id, course_id)))


def course_score(enrollment_id: int) -> float | None:
    """Mean over graded modules of the best graded percent; None when nothing is graded."""
    from app.learning.models import Result

    best = (
        select(Result.module_id, func.max(Result.score * 100.0 / Result.max_score).label("pct"))
        .where(
            Result.enrollment_id == enrollment_id, Result.status == "graded", Result.max_score > 0
        )
        .group_by(Result.module_id)
        .subquery()
    )
    value = db.session.scalar(select(func.avg(best.c.pct)))
    return round(float(value), 1) if value is not None else None


# --- who may see and enrol whom -----------------------------------------------------------


def can_view_user(viewer: User | None, user: User) -> bool:
    """Tell whether `viewer` may read `user`'s training records (self, manager, HR/QA/admin)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if viewer.id == user.id or user.manager_id == viewer.id:
        return True
    return can(viewer, "records.view_all")


def can_enroll_others(viewer: User | None, user: User) -> bool:
    """Tell whether `viewer` may enrol `user` (HR/trainer/admin anyone; a manager their reports)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return False
    if can(viewer, "enroll.others"):
        return True
    return viewer.has_role("manager") and user.manager_id == viewer.id and user.id != viewer.id


def visible_user(viewer: User, user_id: int) -> User:
    """Load a person whose records `viewer` may read. Raises Forbidden, NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        # Only those who may read everyone learn that an id does not exist.
        if can(viewer, "records.view_all"):
            raise NotFound(f"User {user_id} does not exist.")
        raise Forbidden("You may not see this person's training records.")
    if not can_view_user(viewer, user):
        raise Forbidden("You may not see this person's training records.")
    return user


def _course_for_enrollment(course_id) -> Course:
    course = db.session.get(Course, course_id) if as_id(course_id, text=False) else None
    if course is None:
        raise Invalid("Unknown course.", {"course_id": [f"Course {course_id} does not exist."]})
    return course


def enroll_person(
    actor: User,
    user_id: int,
    course_id,
    due_date: date | None = None,
    source: str | None = None,
) -> tuple[Enrollment, bool]:
    """Enrol someone on behalf of `actor`: oneself where the course allows it, others if allowed.

    Returns (enrollment, created). Raises Forbidden, NotFound, Invalid, Conflict.
    """
    user = db.session.get(User, user_id) if as_id(user_id, text=False) else None
    may_enrol = user is not None and can_enroll_others(actor, user)
    if user is None or (actor.id != user.id and not may_enrol):
        if user is None and can(actor, "enroll.others"):
            raise NotFound(f"User {user_id} does not exist.")
        raise Forbidden("You may not enrol this person.")
    course = _course_for_enrollment(course_id)
    existing = current_enrollment(user.id, course.id)
    if existing is not None:
        return existing, False
    if course.status != "published":
        raise Conflict("Only published courses take enrollments.")
    if not may_enrol:
        if not course.self_enroll:
            raise Forbidden("This course is assigned only; ask your manager or HR to enrol you.")
        if source not in (None, "self"):
            raise Invalid("Wrong source.", {"source": ["Enrolling yourself uses source 'self'."]})
    if source is None:
        source = "self" if actor.id == user.id else "manager"
    return enroll_user(user.id, course.id, actor=actor, due_date=due_date, source=source)


@dataclass
class TeamEnrollCounts:
    """What enrolling a team did: new enrollments, members already enrolled, members skipped."""

    created: int
    already_enrolled: int
    not_allowed: int
    enrollment_ids: list[int]


def enroll_team(
    team_id: int,
    course_id: int,
    actor: User,
    due_date: date | None = None,
) -> TeamEnrollCounts:
    """Enrol every active member of a team not yet enrolled, in one INSERT ... SELECT.

    Managers reach only their direct reports in the team; HR, trainers and admins everyone.
    Each new enrollment gets its own audit row. Raises NotFound, Invalid, Conflict, Forbidden.
    """
    team = db.session.get(Team, team_id) if as_id(team_id, text=False) else None
    if team is None:
        raise Invalid("Unknown team.", {"team_id": ["Choose a team."]})
    course = _course_for_enrollment(course_id)
    if course.status != "published":
        raise Conflict("Only published courses take enrollments.")
    members = (User.team_id == team.id) & User.active.is_(True) & (User.kind == "person")
    everyone = can(actor, "enroll.others")
    allowed = members if everyone else members & (User.manager_id == actor.id)
    if not everyone and not actor.has_role("manager"):
        raise Forbidden("You may not enrol this team.")
    enrolled = exists().where(Enrollment.user_id == User.id, Enrollment.course_id == course.id)
    now = clock.now()
    candidates = select(
        User.id,
        literal(course.id),
        literal(1),
        literal("manager"),
        literal(actor.id),
        literal(due_date, type_=Enrollment.due_date.type),
        literal("assigned"),
        literal(now, type_=Enrollment.created_at.type),
    ).where(allowed, ~enrolled)
    stmt = (
        upsert(Enrollment)
        .from_select(
            [
                "user_id",
                "course_id",
                "cycle",
                "source",
                "assigned_by_id",
                "due_date",
                "status",
                "created_at",
            ],
            candidates,
        )
        .on_conflict_do_nothing()
        .returning(Enrollment.id)
    )
    ids = sorted(db.session.scalars(stmt).all())
    if ids:
        rows = db.session.scalars(
            select(Enrollment).where(Enrollment.id.in_(ids)).order_by(Enrollment.id)
        ).all()
        for enrollment in rows:
            record_audit(
                "create",
                "enrollment",
                enrollment.id,
                after=snapshot(read_back(enrollment), ENROLLMENT_AUDIT),
                reason=f"team enrollment: {team.name}",
                actor=actor,
            )
    total, reachable = db.session.execute(
        select(func.count(), func.count().filter(allowed)).select_from(User).where(members)
    ).one()
    db.session.commit()
    return TeamEnrollCounts(
        created=len(ids),
        already_enrolled=reachable - len(ids),
        not_allowed=total - reachable,
        enrollment_ids=ids,
    )


PEOPLE_CHOICES_LIMIT = 200


def enrollable_people(actor: User, q: str = "", limit: int = PEOPLE_CHOICES_LIMIT) -> list[User]:
    """Active people `actor` may enrol, by name, optionally filtered by name or email words."""
    query = select(User).where(User.active.is_(True), User.kind == "person")
    if not can(actor, "enroll.others"):
        query = query.where(User.manager_id == actor.id, User.id != actor.id)
    q = (q or "").strip()[:100]
    if q:
        like = f"%{q}%"
        query = query.where(or_(User.name.ilike(like), User.email.ilike(like)))
    return list(db.session.scalars(query.order_by(User.name, User.id).limit(limit)))


def enrollable_teams(actor: User) -> list[Team]:
    """Teams `actor` may enrol: every team for HR/trainers/admins, else those with their reports."""
    query = (
        select(Team)
        .join(Team.department)
        .options(contains_eager(Team.department))
        .order_by(Department.name, Team.name)
    )
    if not can(actor, "enroll.others"):
        reports = exists().where(
            User.team_id == Team.id, User.manager_id == actor.id, User.active.is_(True)
        )
        query = query.where(reports)
    return list(db.session.scalars(query))


# --- progress from outside players ----------------------------------------------------------


def record_progress_for_user(
    actor: User,
    user_id: int,
    module_id,
    enrollment_id=None,
    **fields,
) -> Progress:
    """Record a learner's progress in a module; the enrollment is derived from the module's course.

    Only the learner (or an admin) may. With `enrollment_id` the module must belong to that
    enrollment's course. Raises Forbidden, NotFound, Invalid, Conflict (not enrolled).
    """
    if actor.id != user_id and not actor.has_role("admin"):
        raise Forbidden("Only the learner records their own progress.")
    if db.session.get(User, user_id) is None:
        raise NotFound(f"User {user_id} does not exist.")
    module = db.session.get(Module, module_id) if as_id(module_id, text=False) else None
    if module is None:
        raise Invalid("Unknown module.", {"module_id": [f"Module {module_id} does not exist."]})
    if enrollment_id is not None:
        enrollment = (
            db.session.get(Enrollment, enrollment_id) if as_id(enrollment_id, text=False) else None
        )
        if enrollment is None or enrollment.user_id != user_id:
            raise Invalid(
                "Unknown enrollment.", {"enrollment_id": ["Not an enrollment of this person."]}
            )
    else:
        enrollment = current_enrollment(user_id, module.course_id)
        if enrollment is None:
            raise Conflict("This person is not enrolled in the course of that module.")
    return record_progress(enrollment.id, module.id, actor=actor, **fields)
