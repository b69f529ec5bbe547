"""Booking instructor-led sessions: registering oneself or someone else, the waitlist and its
promotions, cancelling a booking, and the notifications these send. A learner books themself
when the course allows self-enrolment or they already have an open enrollment in it (the
course was assigned to them); HR, trainers and admins book anyone, managers their direct
reports. Booking closes at the registration deadline, or at the start when there is none
(booking_open, in app.classroom.sessions because the detail page shows it too); those who
manage sessions may still add walk-ins until the attendance is signed off. A full session
waitlists; a freed seat goes to the first on the waitlist (notified), until the session
starts. Seats are counted with the session row locked, so concurrent bookings never overbook.
It is a module of its own because scheduling promotes from the waitlist too (fill_seats) and
so sits above it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload

from app.classroom.eligibility import people_clause, require_eligible
from app.classroom.models import SessionRegistration, TrainingSession
from app.classroom.sessions import (
    ACTIVE,
    SR,
    TS,
    aware,
    booking_open,
    count_registrations,
    get_session,
    local_label,
    lock_session,
    may_manage,
    registration_snapshot,
    session_path,
    session_title,
)
from app.extensions import db
from app.learning.enrollments import OPEN_STATUSES
from app.learning.models import Enrollment
from app.notifications.notify import notify
from app.people.models import NOT_A_PERSON, User
from app.people.permissions import PERMISSIONS, can
from app.platform import clock
from app.platform.audit import read_back, record_audit
from app.platform.errors import Conflict, Forbidden, Invalid, NotFound
from app.platform.inputs import blank, to_id

CHOICES_LIMIT = 200


# --- who may book whom -----------------------------------------------------------------------


@dataclass
class Booking:
    """What a booking did: the registration, whether it is new (or renewed), and warnings."""

    registration: SessionRegistration
    created: bool
    warnings: list[str] = field(default_factory=list)


def may_book_for(actor: User | None, user: User) -> bool:
    """HR, trainers and admins book anyone; a manager their direct reports; all themselves."""
    if actor is None:
        return False
    if actor.id == user.id:
        return True
    if not can(actor, "session.register_others"):
        return False
    if actor.roles & (PERMISSIONS["session.register_others"] - {"manager"}):
        return True
    return user.manager_id == actor.id


def _person(actor: User, data: dict | None) -> User:
    """The person to book: `user_id`, or `person` (an email, as the form sends it), or the actor.
    Raises Invalid, NotFound."""
    data = data or {}
    if not blank(data.get("user_id")):
        errors: dict[str, list[str]] = {}
        user_id = to_id(errors, "user_id", data.get("user_id"))
        if errors:
            raise Invalid("Unknown person.", errors)
        user = db.session.get(User, user_id)
    elif not blank(data.get("person")):
        from app.people.users import find_user_by_email

        email = data.get("person")
        user = find_user_by_email(email) if isinstance(email, str) else None
        if user is None:
            raise Invalid("Unknown person.", {"person": ["No active person with this email."]})
    else:
        return actor
    if user is None:
        if may_manage(actor):
            raise NotFound("No such person.")
        raise Forbidden("You may not book this person.")
    return user


def _check_may_book(actor: User, user: User, session: TrainingSession) -> None:
    if not user.active:
        raise Invalid("Inactive person.", {"user_id": ["This person is deactivated."]})
    if user.is_service_account:
        raise Invalid(NOT_A_PERSON, {"user_id": [NOT_A_PERSON]})
    if actor.id != user.id:
        if not may_book_for(actor, user):
            raise Forbidden(
                "You may book only yourself"
                + (" and your direct reports." if actor.has_role("manager") else ".")
            )
        return
    if session.course.self_enroll:
        return
    open_enrollment = db.session.scalar(
        select(Enrollment.id).where(
            Enrollment.user_id == user.id,
            Enrollment.course_id == session.course_id,
            Enrollment.status.in_(OPEN_STATUSES),
        )
    )
    if open_enrollment is None:
        raise Forbidden(
            "This course is assigned only; ask your manager or HR to book you or assign it."
        )


def _registration(session_id: int, user_id: int) -> SessionRegistration | None:
    return db.session.scalar(
        select(SR)
        .where(SR.session_id == session_id, SR.user_id == user_id)
        .execution_options(populate_existing=True)
    )


def learner_overlaps(user_id: int, session: TrainingSession) -> list[str]:
    """Warnings when the person is already booked (seat or waitlist) at an overlapping time."""
    others = db.session.scalars(
        select(TS)
        .join(SR, SR.session_id == TS.id)
        .where(
            SR.user_id == user_id,
            SR.status.in_(ACTIVE),
            TS.status == "scheduled",
            TS.id != session.id,
            TS.starts_at < session.ends_at,
            TS.ends_at > session.starts_at,
        )
        .options(joinedload(TS.course))
        .order_by(TS.starts_at)
    )
    return [
        f"Already booked at an overlapping time: “{session_title(o)}” "
        f"({local_label(aware(o.starts_at), o.timezone, '%Y-%m-%d %H:%M')})."
        for o in others
    ]


# --- booking, the waitlist, cancelling -------------------------------------------------------


def register(session_id: int, actor: User, data: dict | None = None) -> Booking:
    """Book a seat (or a waitlist place when full) for the actor or, when allowed, someone else.

    Booking again while booked returns the booking unchanged; booking again after cancelling
    reuses the row. Raises NotFound, Forbidden, Invalid, Conflict (closed, cancelled, completed).
    """
    user = _person(actor, data)
    session = get_session(session_id)
    _check_may_book(actor, user, session)
    require_eligible(session, user, actor)
    lock_session(session_id)  # from here on, nobody else counts this session's seats
    if session.status != "scheduled":
        raise Conflict(f"This session is {session.status}; booking is closed.")
    if not booking_open(session) and not may_manage(actor):
        raise Conflict("Booking for this session is closed.")
    reg = _registration(session.id, user.id)
    if reg is not None and reg.status in ACTIVE:
        db.session.rollback()
        return Booking(reg, False, [])
    before = registration_snapshot(reg) if reg is not None else None
    taken = count_registrations(session.id, "registered")
    if reg is None:
        reg = SessionRegistration(session_id=session.id, user_id=user.id)
        db.session.add(reg)
    reg.registered_by_id = actor.id
    reg.registered_at = clock.now()
    reg.promoted_at = None
    reg.cancelled_at = None
    reg.attendance = None
    if taken < session.capacity:
        reg.status = "registered"
        reg.waitlist_position = None
    else:
        last = db.session.scalar(
            select(func.max(SR.waitlist_position)).where(
                SR.session_id == session.id, SR.status == "waitlisted"
            )
        )
        reg.status = "waitlisted"
        reg.waitlist_position = (last or 0) + 1
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("This person was booked at the same moment; reload the page.") from None
    record_audit(
        "register" if before is None else "re-register",
        "session_registration",
        reg.id,
        before=before,
        after=registration_snapshot(read_back(reg)),
        reason=None if actor.id == user.id else f"booked by {actor.name}",
        actor=actor,
    )
    title = session_title(session)
    seat = "a seat" if reg.status == "registered" else f"waitlist place {reg.waitlist_position}"
    when = local_label(session.starts_at, user.timezone)
    where = session.location or session.online_url or ""
    # Everyone booked gets a confirmation, in their own time zone: by someone else or themself.
    notify(
        user.id,
        "session_registered",
        (
            f"Booking confirmed: {title}"
            if actor.id == user.id
            else f"{actor.name} booked you on {title}"
        ),
        f"You have {seat} for “{title}” on {when}" + (f", {where}" if where else "") + ". "
        "Add it to your calendar from the session page.",
        session_path(session.id),
    )
    warnings = learner_overlaps(user.id, session)
    db.session.commit()
    return Booking(reg, True, warnings)


def fill_seats(session: TrainingSession, actor: User | None) -> list[SessionRegistration]:
    """Promote from the waitlist, first come first served, while seats are free and the
    session has not started; each promoted person is told (the caller commits)."""
    if session.status != "scheduled" or clock.now() >= aware(session.starts_at):
        return []
    free = session.capacity - count_registrations(session.id, "registered")
    if free <= 0:
        return []
    waiting = db.session.scalars(
        select(SR)
        .where(SR.session_id == session.id, SR.status == "waitlisted")
        .order_by(SR.waitlist_position, SR.id)
        .limit(free)
    ).all()
    title = session_title(session)
    when = local_label(session.starts_at, session.timezone)
    for reg in waiting:
        before = registration_snapshot(reg)
        reg.status = "registered"
        reg.promoted_at = clock.now()
        record_audit(
            "promote",
            "session_registration",
            reg.id,
            before=before,
            after=registration_snapshot(read_back(reg)),
            reason="a seat became free",
            actor=actor,
        )
        notify(
            reg.user_id,
            "session_promoted",
            f"You have a seat: {title}",
            f"A seat became free for “{title}” on {when} and it is yours. "
            "Cancel your booking if you can no longer attend.",
            session_path(session.id),
        )
    return list(waiting)


def cancel_registration(session_id: int, user_id: int, actor: User) -> SessionRegistration:
    """Cancel a seat or waitlist place; a freed seat goes to the first on the waitlist.

    The person, whoever may book them, or a session manager may cancel, until the start (a
    manager also after it). Cancelling a cancelled booking changes nothing.
    Raises NotFound, Forbidden, Conflict.
    """
    session = get_session(session_id)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such person.")
    if not (may_book_for(actor, user) or may_manage(actor)):
        raise Forbidden("You may not cancel this person's booking.")
    lock_session(session_id)
    if session.status != "scheduled":
        raise Conflict(f"This session is {session.status}; bookings can no longer change.")
    if clock.now() >= aware(session.starts_at) and not may_manage(actor):
        raise Conflict("The session has started; ask the trainer to change the booking.")
    reg = _registration(session.id, user.id)
    if reg is None:
        raise NotFound(f"{user.name} is not booked on this session.")
    if reg.status == "cancelled":
        db.session.rollback()
        return reg
    before = registration_snapshot(reg)
    reg.status = "cancelled"
    reg.cancelled_at = clock.now()
    reg.attendance = None
    record_audit(
        "cancel",
        "session_registration",
        reg.id,
        before=before,
        after=registration_snapshot(read_back(reg)),
        reason=None if actor.id == user.id else f"cancelled by {actor.name}",
        actor=actor,
    )
    title = session_title(session)
    place = "seat" if before["status"] == "registered" else "waitlist place"
    notify(
        user.id,
        "session_booking_cancelled",
        f"Booking cancelled: {title}",
        f"Your {place} for “{title}” on {local_label(session.starts_at, user.timezone)} "
        + ("is cancelled." if actor.id == user.id else f"was cancelled by {actor.name}."),
        session_path(session.id),
    )
    if before["status"] == "registered":
        db.session.flush()
        fill_seats(session, actor)
    db.session.commit()
    return reg


# --- choices for the form --------------------------------------------------------------------


def bookable_people(
    actor: User, session: TrainingSession | None = None, limit: int = CHOICES_LIMIT
) -> list[User]:
    """Active people `actor` may book besides themself: a manager's reports, else everyone;
    with a session, only those who may book it (app.classroom.eligibility)."""
    if not can(actor, "session.register_others"):
        return []
    stmt = (
        select(User)
        .where(User.active.is_(True), User.kind == "person", User.id != actor.id)
        .options(lazyload(User.role_grants))
        .order_by(User.name, User.id)
        .limit(limit)
    )
    if not actor.roles & (PERMISSIONS["session.register_others"] - {"manager"}):
        stmt = stmt.where(User.manager_id == actor.id)
    eligible = people_clause(session) if session is not None else None
    if eligible is not None:
        stmt = stmt.where(eligible)
    return list(db.session.scalars(stmt))
