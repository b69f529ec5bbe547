"""Enrollments and progress: enrol people, record module progress, apply the completion rule."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.jobs import enqueue
from app.models import Course, Enrollment, Module, Progress, User
from app.models.base import utcnow
from app.models.records import ENROLLMENT_SOURCES, PROGRESS_STATUSES
from app.services.audit import record_audit, snapshot
from app.services.errors import Conflict, Invalid, NotFound

ENROLLMENT_AUDIT = ["user_id", "course_id", "cycle", "source", "due_date", "status", "score"]
PROGRESS_AUDIT = ["enrollment_id", "module_id", "status", "percent", "position"]
# Enrollments a learner is still working on; a new enrollment is never made beside one of these.
OPEN_STATUSES = ("assigned", "in_progress")


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
        after=snapshot(enrollment, ENROLLMENT_AUDIT),
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
    if module.kind in ("quiz", "assignment") and (status == "completed" or percent == 100):
        errors["status"] = ["Quizzes and assignments complete when they are graded."]
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
    if enrollment.status == "assigned":
        enrollment.status = "in_progress"
        enrollment.started_at = utcnow()
    db.session.flush()
    after = snapshot(row, PROGRESS_AUDIT)
    if before != after:
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
        row.completed_at = utcnow()


def complete_module(enrollment_id: int, module_id: int, actor: User | None = None) -> None:
    """Mark a graded module (quiz, assignment, scenario) completed; the caller commits."""
    enrollment = get_enrollment(enrollment_id)
    module = db.session.get(Module, module_id)
    row = _progress_row(enrollment, module)
    _complete_progress(row)
    if enrollment.status == "assigned":
        enrollment.status = "in_progress"
        enrollment.started_at = utcnow()


def evaluate_completion(enrollment_id: int, actor: User | None = None) -> bool:
    """Complete the enrollment once every required module is done and the passing score is met.

    The score is the mean of the best graded score (percent) of each graded module. On
    completion the certificate job is enqueued. Safe to call any number of times.
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
    enrollment.completed_at = utcnow()
    enrollment.score = score
    record_audit(
        "update",
        "enrollment",
        enrollment.id,
        before=before,
        after=snapshot(enrollment, ENROLLMENT_AUDIT),
        reason="completion rule met",
        actor=actor,
    )
    db.session.commit()
    enqueue(
        "app.jobs.certificates.issue_for_enrollment",
        enrollment.id,
        job_id=f"certificate-enrollment-{enrollment.id}",
    )
    return True


def course_score(enrollment_id: int) -> float | None:
    """Mean over graded modules of the best graded percent; None when nothing is graded."""
    from app.models import Result

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
