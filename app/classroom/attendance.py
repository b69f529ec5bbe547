"""Attendance and the trainer's sign-off of instructor-led sessions. Attendance opens at the
start; those who manage sessions mark each person holding a seat present or absent. The
sign-off is an electronic signature ("Trainer sign-off", by an instructor of the session or an
admin) over the session and its attendance list (the content signed for "training_session" is
registered here); it completes the session and each present learner's enrollment (opening one
with source "session" if none is open), which issues the certificate as e-learning does.
Absent learners stay open. It is the one session use case that signs and that completes
learning's enrollments, so it stands apart from scheduling and booking.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.audit.signatures import check_signer, sign, signed_content
from app.classroom.models import ATTENDANCE, SessionRegistration, TrainingSession
from app.classroom.sessions import (
    SR,
    TS,
    attendance_open,
    aware,
    get_session,
    lock_session,
    may_sign_off,
    registration_snapshot,
    require_manage,
    session_snapshot,
    session_title,
)
from app.extensions import db
from app.learning import enrollments
from app.learning.enrollments import ENROLLMENT_AUDIT, OPEN_STATUSES
from app.learning.models import Enrollment
from app.people.models import User
from app.people.sod import require_distinct
from app.platform import clock, timefmt
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Forbidden, Invalid
from app.platform.inputs import as_id, blank, to_id
from app.platform.timefmt import iso_utc

# --- attendance marks ------------------------------------------------------------------------


def _check_attendance_open(session: TrainingSession) -> None:
    if session.status != "scheduled":
        raise Conflict(f"This session is {session.status}; attendance is closed.")
    if not attendance_open(session):
        raise Conflict("Attendance opens when the session starts.")


def _seated(session_id: int) -> list[SessionRegistration]:
    return list(
        db.session.scalars(
            select(SR)
            .where(SR.session_id == session_id, SR.status == "registered")
            .options(joinedload(SR.user).lazyload(User.role_grants))
            .order_by(SR.id)
            .execution_options(populate_existing=True)
        )
    )


def _clean_marks(marks: Any, seated: list[SessionRegistration]) -> dict[int, str]:
    """{user_id: present|absent} for people holding a seat; blank values are left unmarked."""
    if marks is None:
        return {}
    if not isinstance(marks, dict):
        raise Invalid(
            "Attendance must map people to present or absent.",
            {"attendance": ['An object such as {"12": "present", "13": "absent"}.']},
        )
    by_user = {r.user_id: r for r in seated}
    out: dict[int, str] = {}
    problems = []
    for key, value in marks.items():
        user_id = to_id({}, "user_id", key)
        if user_id is None or user_id not in by_user:
            problems.append(f"{key}: not a person holding a seat on this session.")
            continue
        if blank(value):
            continue
        if value not in ATTENDANCE:
            problems.append(f"{key}: present or absent.")
            continue
        out[user_id] = value
    if problems:
        raise Invalid("Some attendance marks are not valid.", {"attendance": problems})
    return out


def _apply_marks(seated: list[SessionRegistration], marks: dict[int, str], actor: User) -> int:
    changed = 0
    for reg in seated:
        value = marks.get(reg.user_id)
        if value is None or value == reg.attendance:
            continue
        before = registration_snapshot(reg)
        reg.attendance = value
        record_audit(
            "attendance",
            "session_registration",
            reg.id,
            before=before,
            after=registration_snapshot(read_back(reg)),
            actor=actor,
        )
        changed += 1
    return changed


def _refuse_own_mark(marks: dict[int, str], actor: User) -> None:
    """Nobody records their own attendance (segregation of duties). Raises SelfApproval."""
    if actor.id in marks:
        why = "you hold a seat on this session; another person marks your attendance."
        require_distinct(actor.id, actor, why)


def mark_attendance(session_id: int, marks: Any, actor: User) -> list[SessionRegistration]:
    """Record present/absent for people holding a seat, in bulk (unsigned; sign off after).

    Raises NotFound, Forbidden (SelfApproval: one's own mark), Conflict (not started, closed),
    Invalid.
    """
    require_manage(actor)
    session = get_session(session_id)
    _check_attendance_open(session)
    seated = _seated(session.id)
    clean = _clean_marks(marks, seated)
    _refuse_own_mark(clean, actor)
    _apply_marks(seated, clean, actor)
    db.session.commit()
    return _seated(session.id)


# --- the sign-off ----------------------------------------------------------------------------


@signed_content("training_session")
def _signed(session_id: str) -> dict | None:
    """What the trainer's sign-off covers: the session, its course and times, and who was
    present or absent. Later edits of any of these show the signature as invalid."""
    session = db.session.get(TS, as_id(session_id)) if as_id(session_id) else None
    if session is None:
        return None
    rows = db.session.execute(
        select(SR.user_id, SR.attendance)
        .where(SR.session_id == session.id, SR.status == "registered")
        .order_by(SR.user_id)
    ).all()
    return {
        "id": session.id,
        "course_id": session.course_id,
        "starts_at": iso_utc(session.starts_at),
        "ends_at": iso_utc(session.ends_at),
        "attendance": [[user_id, attendance] for user_id, attendance in rows],
    }


def sign_off_statement(session: TrainingSession) -> str:
    day = session.starts_at.astimezone(timefmt.zone(session.timezone)).date().isoformat()
    return (
        f"I confirm the attendance recorded for “{session_title(session)}” "
        f"({session.course.code}) on {day}."
    )


def _complete_by_attendance(
    reg: SessionRegistration, session: TrainingSession, actor: User
) -> Enrollment:
    """Complete the learner's open enrollment in the course, or open-and-complete one with
    source "session"; audited like any completion (the caller commits)."""
    done_at = min(aware(session.ends_at), clock.now())
    reason = f"attended session {session.id} (trainer sign-off)"
    enrollment = db.session.scalar(
        select(Enrollment)
        .where(
            Enrollment.user_id == reg.user_id,
            Enrollment.course_id == session.course_id,
            Enrollment.status.in_(OPEN_STATUSES),
        )
        .order_by(Enrollment.cycle.desc())
        .limit(1)
    )
    if enrollment is None:
        enrollment = Enrollment(
            user_id=reg.user_id,
            course_id=session.course_id,
            cycle=enrollments.next_cycle(reg.user_id, session.course_id),
            source="session",
            assigned_by_id=actor.id if actor.id != reg.user_id else None,
            status="completed",
            started_at=aware(session.starts_at),
            completed_at=done_at,
        )
        db.session.add(enrollment)
        db.session.flush()
        record_audit(
            "create",
            "enrollment",
            enrollment.id,
            after=snapshot(read_back(enrollment), ENROLLMENT_AUDIT),
            reason=reason,
            actor=actor,
        )
        enrollments.publish_completed(enrollment)
        return enrollment
    before = snapshot(enrollment, ENROLLMENT_AUDIT)
    enrollment.status = "completed"
    enrollment.started_at = enrollment.started_at or aware(session.starts_at)
    enrollment.completed_at = done_at
    record_audit(
        "update",
        "enrollment",
        enrollment.id,
        before=before,
        after=snapshot(read_back(enrollment), ENROLLMENT_AUDIT),
        reason=reason,
        actor=actor,
    )
    enrollments.publish_completed(enrollment)
    return enrollment


def sign_off(
    session_id: int, actor: User, password: str | None, marks: Any = None
) -> TrainingSession:
    """Sign the attendance off (e-signature) and complete the session.

    Optional `marks` are applied first, in the same transaction. Everyone holding a seat must
    be marked. Present learners' enrollments complete and their certificates follow; absent
    ones stay open. A wrong password changes nothing.
    Raises NotFound, Forbidden (SelfApproval: the signer holds a seat), Conflict, Invalid
    (marks, password), RateLimited.
    """
    require_manage(actor)
    session = get_session(session_id)
    if not may_sign_off(session, actor):
        raise Forbidden("Only an instructor of this session (or an admin) signs off attendance.")
    lock_session(session_id)
    _check_attendance_open(session)
    seated = _seated(session.id)
    clean = _clean_marks(marks, seated)
    _refuse_own_mark(clean, actor)
    for reg in seated:
        require_distinct(
            reg.user_id,
            actor,
            "you hold a seat on this session; another instructor (or an admin) signs off"
            " its attendance.",
        )
    unmarked = [r.user.name for r in seated if (clean.get(r.user_id) or r.attendance) is None]
    if unmarked:
        raise Invalid(
            "Mark everyone present or absent before signing off.",
            {"attendance": [f"Not marked yet: {', '.join(unmarked)}."]},
        )
    # Before any change: a failed signature commits only the failed attempt, nothing else.
    check_signer(actor, password)
    _apply_marks(seated, clean, actor)
    db.session.flush()
    sign(
        signer=actor,
        password=None,
        meaning="trainer_signoff",
        entity="training_session",
        entity_id=session.id,
        statement=sign_off_statement(session),
        checked=True,
    )
    completed: list[int] = []
    for reg in seated:
        if reg.attendance != "present":
            continue
        before = registration_snapshot(reg)
        enrollment = _complete_by_attendance(reg, session, actor)
        reg.enrollment_id = enrollment.id
        record_audit(
            "complete",
            "session_registration",
            reg.id,
            before=before,
            after=registration_snapshot(read_back(reg)),
            reason="present at the signed-off session",
            actor=actor,
        )
        completed.append(enrollment.id)
    before = session_snapshot(session)
    session.status = "completed"
    session.signed_off_at = clock.now()
    session.signed_off_by_id = actor.id
    record_audit(
        "sign_off",
        "training_session",
        session.id,
        before=before,
        after=session_snapshot(read_back(session)),
        reason=f"{len(completed)} of {len(seated)} present",
        actor=actor,
    )
    db.session.commit()  # learning.enrollment_completed follows: their certificates
    return get_session(session_id)
