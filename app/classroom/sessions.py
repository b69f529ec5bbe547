"""Instructor-led sessions: scheduling, registration with a waitlist, attendance and sign-off.

The rules, decided here once for the pages and the API:
- Trainers, HR and admins (`session.manage`) create, edit and cancel sessions. Times are entered
  as wall-clock times in the session's time zone (default: the author's) and stored in UTC.
  Instructors are people with the trainer or admin role. A recurring series (weekly or monthly,
  at most 52) is created in one transaction, each occurrence an ordinary session with its own
  uid, at the same local time (daylight saving time included).
- Double-booked instructors or rooms are warnings, never blocks: the trainer may know better.
- A learner books themself when the course allows self-enrolment or they already have an open
  enrollment in it (the course was assigned to them). HR, trainers and admins book anyone;
  managers their direct reports.
- Booking closes at the registration deadline, or at the start when there is none. Those who
  manage sessions may still add walk-ins until the attendance is signed off.
- A full session waitlists; a freed seat goes to the first on the waitlist (notified), until
  the session starts. Seats are counted with the session row locked (SELECT ... FOR UPDATE on
  PostgreSQL), so concurrent bookings never overbook.
- Attendance opens at the start. The sign-off is an electronic signature ("Trainer sign-off",
  by an instructor of the session or an admin) over the session and its attendance list; it
  completes each present learner's enrollment (opening one with source "session" if none is
  open), which issues the certificate as e-learning does. Absent learners stay open.
Every change writes its audit row (entities "training_session" and "session_registration").
"""

from __future__ import annotations

import re
import uuid
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload, selectinload

from app.audit.signatures import check_signer, sign, signed_content
from app.classroom.models import (
    ATTENDANCE,
    SERIES_RULES,
    SESSION_STATUSES,
    SessionInstructor,
    SessionRegistration,
    SessionSeries,
    TrainingSession,
)
from app.extensions import db
from app.learning import enrollments
from app.learning.enrollments import ENROLLMENT_AUDIT, OPEN_STATUSES
from app.learning.models import Course, Enrollment
from app.notifications.notify import notify
from app.people.models import User, UserRole
from app.people.permissions import PERMISSIONS, can
from app.platform import clock
from app.platform.audit import record_audit, snapshot
from app.platform.errors import Conflict, Forbidden, Invalid, NotFound
from app.platform.inputs import blank, to_choice, to_id, to_id_list, to_int, to_text
from app.platform.pagination import Page, clamp
from app.platform.timefmt import iso_utc, known_zones
from app.platform.web.urls import path_for

TS = TrainingSession
SR = SessionRegistration

SESSION_FIELDS = [
    "uid",
    "sequence",
    "course_id",
    "title",
    "starts_at",
    "ends_at",
    "timezone",
    "location",
    "online_url",
    "capacity",
    "registration_deadline",
    "status",
    "notes",
    "series_id",
    "cancelled_at",
    "cancel_reason",
    "signed_off_at",
    "signed_off_by_id",
    "created_by_id",
]
REGISTRATION_FIELDS = [
    "session_id",
    "user_id",
    "status",
    "waitlist_position",
    "attendance",
    "registered_by_id",
    "registered_at",
    "promoted_at",
    "cancelled_at",
    "enrollment_id",
]
# Input fields of a session (the API accepts exactly these, plus the series fields on create).
INPUT_FIELDS = (
    "course_id",
    "title",
    "instructor_ids",
    "timezone",
    "starts_at",
    "ends_at",
    "location",
    "online_url",
    "capacity",
    "registration_deadline",
    "notes",
)
SERIES_FIELDS = ("repeat", "occurrences", "interval")
# A change to any of these moves the session in people's calendars: SEQUENCE goes up and
# the people booked are told when or where changed.
MOVING_FIELDS = ("starts_at", "ends_at", "location", "online_url")
CALENDAR_FIELDS = (*MOVING_FIELDS, "title", "status")
ACTIVE = ("registered", "waitlisted")
INSTRUCTOR_ROLES = ("trainer", "admin")
MAX_OCCURRENCES = 52
MAX_INTERVAL = 12
MAX_CAPACITY = 10_000
MAX_DURATION = timedelta(days=7)
CHOICES_LIMIT = 200
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s]*$", re.IGNORECASE)


# --- small helpers ---------------------------------------------------------------------------


def new_uid() -> str:
    """A globally unique, permanent iCalendar UID for one session."""
    return f"session-{uuid.uuid4().hex}@cadre"


def zone_of(name: str | None) -> ZoneInfo:
    return ZoneInfo(name if name in known_zones() else "UTC")


def local_input(value: datetime | None, tz_name: str | None) -> str:
    """A UTC moment as the wall-clock value of an <input type=datetime-local> in `tz_name`."""
    if value is None:
        return ""
    return value.astimezone(zone_of(tz_name)).strftime("%Y-%m-%dT%H:%M")


def local_label(value: datetime, tz_name: str | None, fmt: str = "%a %d %b %Y %H:%M") -> str:
    zone = zone_of(tz_name)
    return f"{value.astimezone(zone).strftime(fmt)} {zone.key}"


def session_title(session: TrainingSession) -> str:
    return session.title or session.course.title


def session_path(session_id: int) -> str:
    """The detail page's path, built without a request (jobs and commands notify too)."""
    return path_for("sessions.detail", session_id=session_id)


def _plain_snapshot(obj, fields: list[str]) -> dict[str, Any]:
    """snapshot() with moments in UTC, so equal instants compare equal whatever their offset."""
    out = snapshot(obj, fields)
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, datetime):
            out[name] = iso_utc(value)
    return out


def _snap(session: TrainingSession) -> dict[str, Any]:
    out = _plain_snapshot(session, SESSION_FIELDS)
    out["instructor_ids"] = sorted(i.user_id for i in session.instructors)
    return out


def _reg_snap(reg: SessionRegistration) -> dict[str, Any]:
    return _plain_snapshot(reg, REGISTRATION_FIELDS)


def _now() -> datetime:
    return clock.now()


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def is_instructor(session: TrainingSession, user: User | None) -> bool:
    return user is not None and any(i.user_id == user.id for i in session.instructors)


def may_manage(user: User | None) -> bool:
    return can(user, "session.manage")


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


def may_sign_off(session: TrainingSession, user: User | None) -> bool:
    return user is not None and (is_instructor(session, user) or user.has_role("admin"))


def _require_manage(actor: User | None) -> None:
    if not may_manage(actor):
        raise Forbidden("Only trainers, HR and admins manage sessions.")


# --- loading ---------------------------------------------------------------------------------


def _session_options() -> list:
    # Courses by selectin: a calendar month has hundreds of sessions on a few dozen courses,
    # and joining each session row to its course's wide row cost more than one extra query.
    return [
        selectinload(TS.course),
        selectinload(TS.instructors).joinedload(SessionInstructor.user).lazyload(User.role_grants),
    ]


def get_session(session_id: int) -> TrainingSession:
    """One session with its course and instructors. Raises NotFound."""
    session = db.session.scalar(
        select(TS)
        .where(TS.id == session_id)
        .options(*_session_options())
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise NotFound(f"Session {session_id} does not exist.")
    return session


def _locked(session_id: int) -> TrainingSession:
    """The session row, locked until commit (FOR UPDATE on PostgreSQL; SQLite serialises
    writers anyway), so seat counts taken under it stay true."""
    session = db.session.scalar(
        select(TS)
        .where(TS.id == session_id)
        .with_for_update(of=TS)
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise NotFound(f"Session {session_id} does not exist.")
    return session


def _count(session_id: int, status: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(SR).where(SR.session_id == session_id, SR.status == status)
    )


def _registration(session_id: int, user_id: int) -> SessionRegistration | None:
    return db.session.scalar(
        select(SR)
        .where(SR.session_id == session_id, SR.user_id == user_id)
        .execution_options(populate_existing=True)
    )


# --- validation ------------------------------------------------------------------------------


def _moment(
    errors: dict, name: str, value: Any, zone: ZoneInfo | None, *, required: bool = False
) -> datetime | None:
    """A moment from an ISO value: with an offset as given, without one in `zone`. UTC out."""
    if blank(value):
        if required:
            errors[name] = ["Required."]
        return None
    moment = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        errors[name] = ["A date and time such as 2026-03-14T09:30."]
        return None
    if not 2000 <= moment.year <= 2100:
        errors[name] = ["A date between the years 2000 and 2100."]
        return None
    if moment.tzinfo is None:
        if zone is None:
            return None  # the time zone itself is wrong; that error is already there
        local = moment.replace(tzinfo=zone)
        # A wall-clock time skipped when the clocks go forward does not come back unchanged.
        if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != moment:
            errors[name] = [f"{moment:%Y-%m-%d %H:%M} does not exist in {zone.key} (clock change)."]
            return None
        moment = local
    return moment.astimezone(UTC)


def _valid_instructors(errors: dict, ids: list[int]) -> None:
    if not ids:
        return
    found = set(
        db.session.scalars(
            select(User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(User.id.in_(ids), User.active.is_(True), UserRole.role.in_(INSTRUCTOR_ROLES))
        )
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        errors["instructor_ids"] = [
            f"Not an active trainer: {', '.join(missing)}. Instructors need the trainer role."
        ]


def _clean(data: dict, actor: User, current: TrainingSession | None = None) -> dict[str, Any]:
    """The clean fields of a session. Fields absent from `data` keep `current`'s values (a
    partial update); on create they take their defaults. Raises Invalid."""
    errors: dict[str, list[str]] = {}

    def pick(name: str, default: Any = None) -> Any:
        if name in data:
            return data[name]
        return getattr(current, name) if current is not None else default

    course_id = to_id(errors, "course_id", pick("course_id"), required=True)
    if course_id is not None:
        course = db.session.get(Course, course_id)
        unchanged = current is not None and current.course_id == course_id
        if course is None:
            errors["course_id"] = ["No such course."]
        elif course.status != "published" and not unchanged:
            errors["course_id"] = ["Only published courses can be scheduled."]
    title = to_text(errors, "title", pick("title"), 200)

    tz_value = pick("timezone")
    if blank(tz_value):
        tz_value = actor.timezone or "UTC"
    zone = None
    if not isinstance(tz_value, str) or tz_value.strip() not in known_zones():
        errors["timezone"] = ["Not a known time zone, e.g. Europe/Zurich."]
    else:
        tz_value = tz_value.strip()
        zone = ZoneInfo(tz_value)

    starts_at = _moment(errors, "starts_at", pick("starts_at"), zone, required=True)
    ends_at = _moment(errors, "ends_at", pick("ends_at"), zone, required=True)
    if starts_at and ends_at:
        if ends_at <= starts_at:
            errors["ends_at"] = ["Must be after the start."]
        elif ends_at - starts_at > MAX_DURATION:
            errors["ends_at"] = ["A session lasts at most 7 days; schedule a series instead."]
    deadline = _moment(errors, "registration_deadline", pick("registration_deadline"), zone)
    if deadline and starts_at and deadline > starts_at:
        errors["registration_deadline"] = ["Must be at or before the start."]

    location = to_text(errors, "location", pick("location"), 200)
    online_url = to_text(errors, "online_url", pick("online_url"), 500)
    if online_url and "online_url" not in errors and not _URL.match(online_url):
        errors["online_url"] = ["A web address starting with https://."]
    if not location and not online_url and not {"location", "online_url"} & set(errors):
        errors["location"] = ["Give a room, an online link, or both."]

    capacity = to_int(errors, "capacity", pick("capacity"), 1, MAX_CAPACITY, required=True)
    notes = to_text(errors, "notes", pick("notes"), 5000) or ""

    if "instructor_ids" in data:
        instructor_ids = to_id_list(errors, "instructor_ids", data["instructor_ids"])
    elif current is not None:
        instructor_ids = sorted(i.user_id for i in current.instructors)
    else:
        instructor_ids = [actor.id] if actor.has_role(*INSTRUCTOR_ROLES) else []
    if not instructor_ids and "instructor_ids" not in errors:
        errors["instructor_ids"] = ["Choose at least one instructor."]
    _valid_instructors(errors, instructor_ids)

    if current is not None and capacity is not None:
        taken = _count(current.id, "registered")
        if capacity < taken:
            errors["capacity"] = [
                f"{taken} people hold a seat; cancel some bookings first or keep at least {taken}."
            ]
    if errors:
        raise Invalid("Some session fields are not valid.", errors)
    return {
        "course_id": course_id,
        "title": title,
        "timezone": tz_value,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "registration_deadline": deadline,
        "location": location,
        "online_url": online_url,
        "capacity": capacity,
        "notes": notes,
        "instructor_ids": instructor_ids,
    }


def _clean_series(data: dict) -> tuple[str, int, int] | None:
    """(rule, occurrences, interval) when `repeat` asks for a series, else None. Raises Invalid."""
    errors: dict[str, list[str]] = {}
    repeat = data.get("repeat")
    if blank(repeat) or repeat == "none":
        return None
    rule = to_choice(errors, "repeat", repeat, SERIES_RULES)
    count = to_int(errors, "occurrences", data.get("occurrences"), 2, MAX_OCCURRENCES)
    if count is None and "occurrences" not in errors:
        errors["occurrences"] = [f"How many sessions: 2 to {MAX_OCCURRENCES}."]
    interval = to_int(errors, "interval", data.get("interval"), 1, MAX_INTERVAL) or 1
    if errors:
        raise Invalid("The repetition is not valid.", errors)
    return rule, count, interval


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


def occurrences(
    clean: dict, rule: str | None, count: int = 1, interval: int = 1
) -> list[tuple[datetime, datetime, datetime | None]]:
    """(start, end, deadline) in UTC of each occurrence: the same wall-clock time in the
    session's zone every week or month (so 09:00 stays 09:00 across a clock change)."""
    zone = zone_of(clean["timezone"])
    start = clean["starts_at"].astimezone(zone).replace(tzinfo=None)
    end = clean["ends_at"].astimezone(zone).replace(tzinfo=None)
    deadline = clean["registration_deadline"]
    lead = clean["starts_at"] - deadline if deadline else None
    out = []
    for k in range(count if rule else 1):
        if k == 0:
            out.append((clean["starts_at"], clean["ends_at"], clean["registration_deadline"]))
            continue
        if rule == "weekly":
            s = start + timedelta(weeks=k * interval)
        else:
            s = _add_months(start, k * interval)
        e = s + (end - start)
        s_utc = s.replace(tzinfo=zone).astimezone(UTC)
        e_utc = e.replace(tzinfo=zone).astimezone(UTC)
        out.append((s_utc, e_utc, s_utc - lead if lead is not None else None))
    return out


# --- conflict warnings -----------------------------------------------------------------------


def conflict_warnings(
    windows: list[tuple[datetime, datetime]],
    instructor_ids: list[int],
    location: str | None,
    exclude_ids: list[int] | tuple = (),
) -> list[str]:
    """Warnings (never blocks) for an instructor or a room (same location, any case) already
    booked in a scheduled session overlapping any of `windows`. One query."""
    if not windows:
        return []
    conditions = []
    if instructor_ids:
        teaching = select(SessionInstructor.session_id).where(
            SessionInstructor.user_id.in_(instructor_ids)
        )
        conditions.append(TS.id.in_(teaching))
    room = (location or "").strip().lower()
    if room:
        conditions.append(func.lower(TS.location) == room)
    if not conditions:
        return []
    lo = min(s for s, _ in windows)
    hi = max(e for _, e in windows)
    stmt = (
        select(TS)
        .where(TS.status == "scheduled", TS.starts_at < hi, TS.ends_at > lo, or_(*conditions))
        .options(*_session_options())
        .order_by(TS.starts_at, TS.id)
    )
    if exclude_ids:
        stmt = stmt.where(TS.id.not_in(list(exclude_ids)))
    warnings: list[str] = []
    for other in db.session.scalars(stmt):
        start, end = _aware(other.starts_at), _aware(other.ends_at)
        if not any(start < e and end > s for s, e in windows):
            continue
        when = local_label(start, other.timezone, "%Y-%m-%d %H:%M")
        what = f"“{session_title(other)}” (session {other.id}, {when})"
        clash = [i.user.name for i in other.instructors if i.user_id in instructor_ids]
        if clash:
            who = ", ".join(clash)
            warnings.append(f"{who} already teach{'es' if len(clash) == 1 else ''} {what}.")
        if room and (other.location or "").strip().lower() == room:
            warnings.append(f"The room “{other.location}” is already booked for {what}.")
    return warnings


# --- create, edit, cancel --------------------------------------------------------------------


@dataclass
class Saved:
    """What saving did: the session(s) written and the conflict warnings to show."""

    sessions: list[TrainingSession]
    warnings: list[str] = field(default_factory=list)

    @property
    def session(self) -> TrainingSession:
        return self.sessions[0]


def create_sessions(data: dict, actor: User) -> Saved:
    """Create one session, or a whole weekly/monthly series in one transaction.

    Raises Forbidden, Invalid. Warnings report double-booked instructors and rooms.
    """
    _require_manage(actor)
    errors: dict[str, list[str]] = {}
    clean = series = None
    try:
        clean = _clean(data, actor)
    except Invalid as exc:
        errors.update(exc.errors)
    try:
        series = _clean_series(data)
    except Invalid as exc:
        errors.update(exc.errors)
    if errors:
        raise Invalid("Some session fields are not valid.", errors)
    rule, count, interval = series or (None, 1, 1)
    slots = occurrences(clean, rule, count, interval)
    series_row = None
    if rule:
        series_row = SessionSeries(
            rule=rule, interval=interval, occurrences=count, created_by_id=actor.id
        )
        db.session.add(series_row)
        db.session.flush()
    sessions = []
    for start, end, deadline in slots:
        session = TrainingSession(
            uid=new_uid(),
            sequence=0,
            course_id=clean["course_id"],
            title=clean["title"],
            starts_at=start,
            ends_at=end,
            timezone=clean["timezone"],
            location=clean["location"],
            online_url=clean["online_url"],
            capacity=clean["capacity"],
            registration_deadline=deadline,
            status="scheduled",
            notes=clean["notes"],
            series_id=series_row.id if series_row else None,
            created_by_id=actor.id,
        )
        session.instructors = [SessionInstructor(user_id=i) for i in clean["instructor_ids"]]
        db.session.add(session)
        sessions.append(session)
    db.session.flush()
    for number, session in enumerate(sessions, start=1):
        reason = f"series {series_row.id} ({rule}), {number} of {count}" if series_row else None
        record_audit(
            "create",
            "training_session",
            session.id,
            after=_snap(session),
            reason=reason,
            actor=actor,
        )
    warnings = conflict_warnings(
        [(s, e) for s, e, _ in slots],
        clean["instructor_ids"],
        clean["location"],
        exclude_ids=[s.id for s in sessions],
    )
    db.session.commit()
    return Saved([get_session(sessions[0].id), *sessions[1:]], warnings)


def _sync_instructors(session: TrainingSession, ids: list[int]) -> None:
    wanted = set(ids)
    for link in list(session.instructors):
        if link.user_id not in wanted:
            session.instructors.remove(link)
    have = {link.user_id for link in session.instructors}
    for user_id in ids:
        if user_id not in have:
            session.instructors.append(SessionInstructor(user_id=user_id))


def _people_booked(session_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(SR.user_id).where(SR.session_id == session_id, SR.status.in_(ACTIVE))
        )
    )


def update_session(session_id: int, data: dict, actor: User) -> Saved:
    """Change a scheduled session; fields left out of `data` keep their values.

    A new time or place bumps SEQUENCE and tells everyone booked; more seats promote from the
    waitlist. Raises NotFound, Forbidden, Conflict (cancelled or completed), Invalid.
    """
    _require_manage(actor)
    _locked(session_id)
    session = get_session(session_id)
    if session.status != "scheduled":
        raise Conflict(f"This session is {session.status}; it can no longer be changed.")
    clean = _clean(data, actor, session)
    before = _snap(session)
    for name in (
        "course_id",
        "title",
        "timezone",
        "starts_at",
        "ends_at",
        "registration_deadline",
        "location",
        "online_url",
        "capacity",
        "notes",
    ):
        setattr(session, name, clean[name])
    _sync_instructors(session, clean["instructor_ids"])
    after = _snap(session)
    changed = [k for k in after if before[k] != after[k]]
    if not changed:
        db.session.rollback()
        return Saved([get_session(session_id)])
    moved = any(k in MOVING_FIELDS for k in changed)
    if any(k in CALENDAR_FIELDS for k in changed):
        session.sequence += 1
    record_audit(
        "update", "training_session", session.id, before=before, after=_snap(session), actor=actor
    )
    if moved:
        title = session_title(session)
        when = local_label(session.starts_at, session.timezone)
        where = session.location or session.online_url
        for user_id in _people_booked(session.id):
            notify(
                user_id,
                "session_changed",
                f"Session changed: {title}",
                f"“{title}” is now on {when}, {where}. Check that you can still attend.",
                session_path(session.id),
                f"session-changed:{session.id}:{session.sequence}:{user_id}",
            )
    if "capacity" in changed and clean["capacity"] > before["capacity"]:
        _fill_seats(session, actor)
    warnings = []
    if moved or "instructor_ids" in changed:
        warnings = conflict_warnings(
            [(session.starts_at, session.ends_at)],
            clean["instructor_ids"],
            session.location,
            exclude_ids=[session.id],
        )
    db.session.commit()
    return Saved([get_session(session_id)], warnings)


def cancel_session(session_id: int, reason: Any, actor: User) -> TrainingSession:
    """Cancel a scheduled session (kept, not deleted) and tell everyone booked.

    Cancelling twice changes nothing. Raises NotFound, Forbidden, Conflict (completed), Invalid.
    """
    _require_manage(actor)
    errors: dict[str, list[str]] = {}
    text = to_text(errors, "reason", reason, 2000)
    if errors:
        raise Invalid("The reason is not valid.", errors)
    _locked(session_id)
    session = get_session(session_id)
    if session.status == "completed":
        raise Conflict("This session is completed and signed off; it cannot be cancelled.")
    if session.status == "cancelled":
        db.session.rollback()
        return session
    before = _snap(session)
    session.status = "cancelled"
    session.cancelled_at = _now()
    session.cancel_reason = text
    session.sequence += 1
    record_audit(
        "cancel",
        "training_session",
        session.id,
        before=before,
        after=_snap(session),
        reason=text,
        actor=actor,
    )
    title = session_title(session)
    when = local_label(session.starts_at, session.timezone)
    for user_id in _people_booked(session.id):
        notify(
            user_id,
            "session_cancelled",
            f"Session cancelled: {title}",
            f"“{title}” on {when} is cancelled." + (f" Reason: {text}" if text else ""),
            session_path(session.id),
            f"session-cancelled:{session.id}:{user_id}",
        )
    db.session.commit()
    return get_session(session_id)


# --- registration ----------------------------------------------------------------------------


@dataclass
class Booking:
    """What a booking did: the registration, whether it is new (or renewed), and warnings."""

    registration: SessionRegistration
    created: bool
    warnings: list[str] = field(default_factory=list)


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


def booking_closes_at(session: TrainingSession) -> datetime:
    return _aware(session.registration_deadline or session.starts_at)


def booking_open(session: TrainingSession, now: datetime | None = None) -> bool:
    return session.status == "scheduled" and (now or _now()) < booking_closes_at(session)


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
        f"({local_label(_aware(o.starts_at), o.timezone, '%Y-%m-%d %H:%M')})."
        for o in others
    ]


def register(session_id: int, actor: User, data: dict | None = None) -> Booking:
    """Book a seat (or a waitlist place when full) for the actor or, when allowed, someone else.

    Booking again while booked returns the booking unchanged; booking again after cancelling
    reuses the row. Raises NotFound, Forbidden, Invalid, Conflict (closed, cancelled, completed).
    """
    user = _person(actor, data)
    session = get_session(session_id)
    _check_may_book(actor, user, session)
    _locked(session_id)  # from here on, nobody else counts this session's seats
    if session.status != "scheduled":
        raise Conflict(f"This session is {session.status}; booking is closed.")
    if not booking_open(session) and not may_manage(actor):
        raise Conflict("Booking for this session is closed.")
    reg = _registration(session.id, user.id)
    if reg is not None and reg.status in ACTIVE:
        db.session.rollback()
        return Booking(reg, False, [])
    before = _reg_snap(reg) if reg is not None else None
    taken = _count(session.id, "registered")
    if reg is None:
        reg = SessionRegistration(session_id=session.id, user_id=user.id)
        db.session.add(reg)
    reg.registered_by_id = actor.id
    reg.registered_at = _now()
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
        after=_reg_snap(reg),
        reason=None if actor.id == user.id else f"booked by {actor.name}",
        actor=actor,
    )
    if actor.id != user.id:
        title = session_title(session)
        seat = "a seat" if reg.status == "registered" else f"waitlist place {reg.waitlist_position}"
        notify(
            user.id,
            "session_registered",
            f"{actor.name} booked you on {title}",
            f"You have {seat} for “{title}” on {local_label(session.starts_at, user.timezone)}.",
            session_path(session.id),
        )
    warnings = learner_overlaps(user.id, session)
    db.session.commit()
    return Booking(reg, True, warnings)


def _fill_seats(session: TrainingSession, actor: User | None) -> list[SessionRegistration]:
    """Promote from the waitlist, first come first served, while seats are free and the
    session has not started; each promoted person is told (the caller commits)."""
    if session.status != "scheduled" or _now() >= _aware(session.starts_at):
        return []
    free = session.capacity - _count(session.id, "registered")
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
        before = _reg_snap(reg)
        reg.status = "registered"
        reg.promoted_at = _now()
        record_audit(
            "promote",
            "session_registration",
            reg.id,
            before=before,
            after=_reg_snap(reg),
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
    _locked(session_id)
    if session.status != "scheduled":
        raise Conflict(f"This session is {session.status}; bookings can no longer change.")
    if _now() >= _aware(session.starts_at) and not may_manage(actor):
        raise Conflict("The session has started; ask the trainer to change the booking.")
    reg = _registration(session.id, user.id)
    if reg is None:
        raise NotFound(f"{user.name} is not booked on this session.")
    if reg.status == "cancelled":
        db.session.rollback()
        return reg
    before = _reg_snap(reg)
    reg.status = "cancelled"
    reg.cancelled_at = _now()
    reg.attendance = None
    record_audit(
        "cancel",
        "session_registration",
        reg.id,
        before=before,
        after=_reg_snap(reg),
        reason=None if actor.id == user.id else f"cancelled by {actor.name}",
        actor=actor,
    )
    if before["status"] == "registered":
        db.session.flush()
        _fill_seats(session, actor)
    db.session.commit()
    return reg


# --- attendance and sign-off -----------------------------------------------------------------


def attendance_open(session: TrainingSession, now: datetime | None = None) -> bool:
    return session.status == "scheduled" and (now or _now()) >= _aware(session.starts_at)


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
        before = _reg_snap(reg)
        reg.attendance = value
        record_audit(
            "attendance",
            "session_registration",
            reg.id,
            before=before,
            after=_reg_snap(reg),
            actor=actor,
        )
        changed += 1
    return changed


def mark_attendance(session_id: int, marks: Any, actor: User) -> list[SessionRegistration]:
    """Record present/absent for people holding a seat, in bulk (unsigned; sign off after).

    Raises NotFound, Forbidden, Conflict (not started, closed), Invalid.
    """
    _require_manage(actor)
    session = get_session(session_id)
    _check_attendance_open(session)
    seated = _seated(session.id)
    _apply_marks(seated, _clean_marks(marks, seated), actor)
    db.session.commit()
    return _seated(session.id)


@signed_content("training_session")
def _signed(session_id: str) -> dict | None:
    """What the trainer's sign-off covers: the session, its course and times, and who was
    present or absent. Later edits of any of these show the signature as invalid."""
    session = db.session.get(TS, int(session_id)) if session_id.isdigit() else None
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
    day = session.starts_at.astimezone(zone_of(session.timezone)).date().isoformat()
    return (
        f"I confirm the attendance recorded for “{session_title(session)}” "
        f"({session.course.code}) on {day}."
    )


def _complete_by_attendance(
    reg: SessionRegistration, session: TrainingSession, actor: User
) -> Enrollment:
    """Complete the learner's open enrollment in the course, or open-and-complete one with
    source "session"; audited like any completion (the caller commits)."""
    done_at = min(_aware(session.ends_at), _now())
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
            started_at=_aware(session.starts_at),
            completed_at=done_at,
        )
        db.session.add(enrollment)
        db.session.flush()
        record_audit(
            "create",
            "enrollment",
            enrollment.id,
            after=snapshot(enrollment, ENROLLMENT_AUDIT),
            reason=reason,
            actor=actor,
        )
        enrollments.publish_completed(enrollment)
        return enrollment
    before = snapshot(enrollment, ENROLLMENT_AUDIT)
    enrollment.status = "completed"
    enrollment.started_at = enrollment.started_at or _aware(session.starts_at)
    enrollment.completed_at = done_at
    record_audit(
        "update",
        "enrollment",
        enrollment.id,
        before=before,
        after=snapshot(enrollment, ENROLLMENT_AUDIT),
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
    Raises NotFound, Forbidden, Conflict, Invalid (marks, password), RateLimited.
    """
    _require_manage(actor)
    session = get_session(session_id)
    if not may_sign_off(session, actor):
        raise Forbidden("Only an instructor of this session (or an admin) signs off attendance.")
    _locked(session_id)
    _check_attendance_open(session)
    seated = _seated(session.id)
    clean = _clean_marks(marks, seated)
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
        before = _reg_snap(reg)
        enrollment = _complete_by_attendance(reg, session, actor)
        reg.enrollment_id = enrollment.id
        record_audit(
            "complete",
            "session_registration",
            reg.id,
            before=before,
            after=_reg_snap(reg),
            reason="present at the signed-off session",
            actor=actor,
        )
        completed.append(enrollment.id)
    before = _snap(session)
    session.status = "completed"
    session.signed_off_at = _now()
    session.signed_off_by_id = actor.id
    record_audit(
        "sign_off",
        "training_session",
        session.id,
        before=before,
        after=_snap(session),
        reason=f"{len(completed)} of {len(seated)} present",
        actor=actor,
    )
    db.session.commit()  # learning.enrollment_completed follows: their certificates
    return get_session(session_id)


# --- reading: lists, the calendar, one session ----------------------------------------------


@dataclass
class SessionRow:
    """A session with its seat counts (and the viewer's own booking status)."""

    session: TrainingSession
    taken: int
    waiting: int
    my_status: str | None = None

    @property
    def seats_left(self) -> int:
        return max(0, self.session.capacity - self.taken)

    @property
    def title(self) -> str:
        return session_title(self.session)


@dataclass
class SessionFilters:
    course_id: int | None = None
    instructor_id: int | None = None
    location: str = ""
    status: str = ""
    booked_by: int | None = None  # only sessions this person holds a seat or waitlist place on
    mine: bool = False  # only sessions the viewer is booked on or teaches


def _rows_stmt(filters: SessionFilters, viewer: User | None, with_instructors: bool = True):
    """Sessions with seats taken and waitlisted (and the viewer's status) in one statement."""
    taken = (
        select(func.count())
        .select_from(SR)
        .where(SR.session_id == TS.id, SR.status == "registered")
        .correlate(TS)
        .scalar_subquery()
    )
    waiting = (
        select(func.count())
        .select_from(SR)
        .where(SR.session_id == TS.id, SR.status == "waitlisted")
        .correlate(TS)
        .scalar_subquery()
    )
    if viewer is not None:
        mine = (
            select(SR.status)
            .where(SR.session_id == TS.id, SR.user_id == viewer.id)
            .correlate(TS)
            .scalar_subquery()
        )
    else:
        mine = literal(None, type_=SR.status.type)
    if with_instructors:
        options = _session_options()
    else:
        # A month grid shows course titles only: not the instructors (selectin by default)
        # nor the courses' wide rows.
        options = [
            selectinload(TS.course).load_only(Course.id, Course.title),
            lazyload(TS.instructors),
        ]
    stmt = select(TS, taken.label("taken"), waiting.label("waiting"), mine.label("mine")).options(
        *options
    )
    if filters.course_id:
        stmt = stmt.where(TS.course_id == filters.course_id)
    if filters.instructor_id:
        stmt = stmt.where(
            TS.id.in_(
                select(SessionInstructor.session_id).where(
                    SessionInstructor.user_id == filters.instructor_id
                )
            )
        )
    if filters.location:
        stmt = stmt.where(TS.location.ilike(f"%{filters.location}%"))
    if filters.status:
        stmt = stmt.where(TS.status == filters.status)
    if filters.booked_by:
        stmt = stmt.where(
            TS.id.in_(
                select(SR.session_id).where(SR.user_id == filters.booked_by, SR.status.in_(ACTIVE))
            )
        )
    if filters.mine and viewer is not None:
        booked = select(SR.session_id).where(SR.user_id == viewer.id, SR.status.in_(ACTIVE))
        teaching = select(SessionInstructor.session_id).where(
            SessionInstructor.user_id == viewer.id
        )
        stmt = stmt.where(or_(TS.id.in_(booked), TS.id.in_(teaching)))
    return stmt


def _row(r) -> SessionRow:
    return SessionRow(r[0], int(r[1] or 0), int(r[2] or 0), r[3])


def sessions_between(
    start: datetime,
    end: datetime,
    filters: SessionFilters | None = None,
    viewer: User | None = None,
    limit: int = 2000,
    with_instructors: bool = True,
) -> list[SessionRow]:
    """Sessions overlapping [start, end), by start, with seats taken/left: one query (plus
    one for the courses and, unless a month grid needs no names, the instructors), whatever
    the number of sessions. For lists and calendars."""
    stmt = (
        _rows_stmt(filters or SessionFilters(), viewer, with_instructors)
        .where(TS.starts_at < end, TS.ends_at > start)
        .order_by(TS.starts_at, TS.id)
        .limit(limit)
    )
    return [_row(r) for r in db.session.execute(stmt).unique()]


def session_row(session_id: int, viewer: User | None = None) -> SessionRow:
    """One session with its seat counts. Raises NotFound."""
    stmt = _rows_stmt(SessionFilters(), viewer).where(TS.id == session_id)
    found = db.session.execute(stmt.execution_options(populate_existing=True)).unique().first()
    if found is None:
        raise NotFound(f"Session {session_id} does not exist.")
    return _row(found)


@dataclass
class SessionQuery:
    """A page of sessions: filters, a time window and paging, from query-string arguments."""

    filters: SessionFilters = field(default_factory=SessionFilters)
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    per_page: int = 20
    # What the filter form shows back (dates as typed).
    date_from: str = ""
    date_to: str = ""

    @classmethod
    def from_args(
        cls, args, viewer: User | None = None, *, strict: bool = False, upcoming: bool = False
    ) -> SessionQuery:
        """Read `course_id`, `instructor_id`, `location`, `status`, `mine`, `from`, `to`,
        `page`, `per_page`. A date means midnight in the viewer's zone (`to`: the end of that
        day); a date-time with an offset is taken as is. `strict` raises Invalid for bad
        values (the API); otherwise they are ignored (the pages). `upcoming` defaults `from` to
        now."""
        errors: dict[str, list[str]] = {}
        page, per_page = clamp(args.get("page"), args.get("per_page"))
        status = (args.get("status") or "").strip()
        if status and status not in SESSION_STATUSES:
            errors["status"] = [f"One of: {', '.join(SESSION_STATUSES)}."]
            status = ""
        location = (args.get("location") or "").strip()[:200]
        filters = SessionFilters(
            course_id=to_id(errors, "course_id", args.get("course_id")),
            instructor_id=to_id(errors, "instructor_id", args.get("instructor_id")),
            location=location,
            status=status,
            mine=(args.get("mine") or "") in ("1", "true", "on", "yes"),
        )
        zone = zone_of(viewer.timezone if viewer is not None else "UTC")
        start = _bound(errors, "from", args.get("from"), zone, end_of_day=False)
        end = _bound(errors, "to", args.get("to"), zone, end_of_day=True)
        if start and end and end <= start:
            errors["to"] = ["Must be after `from`."]
            end = None
        if errors and strict:
            raise Invalid("Some filters are not valid.", errors)
        if start is None and upcoming and "from" not in errors and blank(args.get("from")):
            start = _now()
        return cls(
            filters=filters,
            start=start,
            end=end,
            page=page,
            per_page=per_page,
            date_from=(args.get("from") or "").strip()[:40],
            date_to=(args.get("to") or "").strip()[:40],
        )


def _bound(
    errors: dict, name: str, value: Any, zone: ZoneInfo, *, end_of_day: bool
) -> datetime | None:
    if blank(value):
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            if end_of_day:
                day += timedelta(days=1)
            return datetime.combine(day, time.min, zone).astimezone(UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        errors[name] = ["A date (2026-03-14) or a date-time with an offset."]
        return None
    if not 2000 <= moment.year <= 2100:
        errors[name] = ["A date between the years 2000 and 2100."]
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def list_sessions(query: SessionQuery, viewer: User | None = None) -> Page:
    """A page of SessionRows by start time; the total rides along as a window count."""
    stmt = _rows_stmt(query.filters, viewer)
    if query.start is not None:
        stmt = stmt.where(TS.ends_at > query.start)
    if query.end is not None:
        stmt = stmt.where(TS.starts_at < query.end)
    windowed = (
        stmt.add_columns(func.count().over().label("_total"))
        .order_by(TS.starts_at, TS.id)
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    )
    rows = db.session.execute(windowed).unique().all()
    total = rows[0][-1] if rows else 0
    if not rows and query.page > 1:
        inner = stmt.with_only_columns(TS.id).order_by(None).subquery()
        total = db.session.scalar(select(func.count()).select_from(inner)) or 0
    items = [_row(r) for r in rows]
    return Page(items=items, total=total, page=query.page, per_page=query.per_page)


def my_bookings(user: User, limit: int = 20) -> list[SessionRow]:
    """The person's upcoming seats and waitlist places, soonest first."""
    return sessions_between(
        _now(), datetime(2101, 1, 1, tzinfo=UTC), SessionFilters(booked_by=user.id), user, limit
    )


@dataclass
class SessionDetail:
    """One session as a viewer may see it: seats, registrants, waitlist, their own booking."""

    session: TrainingSession
    taken: int
    waiting: int
    registered: list[SessionRegistration]
    waitlist: list[SessionRegistration]
    cancelled: list[SessionRegistration]
    mine: SessionRegistration | None
    sees_everyone: bool
    may_manage: bool
    may_sign: bool
    booking_open: bool
    attendance_open: bool

    @property
    def seats_left(self) -> int:
        return max(0, self.session.capacity - self.taken)

    @property
    def title(self) -> str:
        return session_title(self.session)

    @property
    def my_place(self) -> int | None:
        """The viewer's place in the waitlist queue (1 = next), if waitlisted."""
        if self.mine is None or self.mine.status != "waitlisted":
            return None
        return waitlist_place(self.mine, self.waitlist)

    @property
    def before_start(self) -> bool:
        return _now() < _aware(self.session.starts_at)

    @property
    def local_when(self) -> str:
        """Start and end as wall-clock times where the session happens."""
        zone = zone_of(self.session.timezone)
        start, end = self.session.starts_at.astimezone(zone), self.session.ends_at.astimezone(zone)
        return f"{start:%a %d %b %Y %H:%M}–{end:%H:%M} {zone.key}"

    @property
    def unmarked(self) -> int:
        return sum(1 for r in self.registered if r.attendance is None)


def waitlist_place(reg: SessionRegistration, waitlist: list[SessionRegistration]) -> int:
    ahead = [r for r in waitlist if (r.waitlist_position, r.id) < (reg.waitlist_position, reg.id)]
    return len(ahead) + 1


def registrations(session_id: int) -> list[SessionRegistration]:
    """Every registration of a session with its person, in booking order."""
    return list(
        db.session.scalars(
            select(SR)
            .where(SR.session_id == session_id)
            .options(joinedload(SR.user).lazyload(User.role_grants))
            .order_by(SR.registered_at, SR.id)
            .execution_options(populate_existing=True)
        )
    )


def visible_registrations(
    session: TrainingSession, rows: list[SessionRegistration], viewer: User
) -> tuple[list[SessionRegistration], bool]:
    """The registrations `viewer` may see: all for session managers and its instructors, a
    manager's direct reports', else only their own. Returns (rows, sees_everyone)."""
    if may_manage(viewer) or is_instructor(session, viewer):
        return rows, True
    if viewer.has_role("manager"):
        return [r for r in rows if r.user_id == viewer.id or r.user.manager_id == viewer.id], False
    return [r for r in rows if r.user_id == viewer.id], False


def session_detail(session_id: int, viewer: User) -> SessionDetail:
    """Everything the detail page shows, in three queries. Raises NotFound."""
    session = get_session(session_id)
    rows = registrations(session.id)
    taken = sum(1 for r in rows if r.status == "registered")
    waiting = sum(1 for r in rows if r.status == "waitlisted")
    seen, everyone = visible_registrations(session, rows, viewer)
    return SessionDetail(
        session=session,
        taken=taken,
        waiting=waiting,
        registered=[r for r in seen if r.status == "registered"],
        waitlist=sorted(
            (r for r in seen if r.status == "waitlisted"),
            key=lambda r: (r.waitlist_position or 0, r.id),
        ),
        cancelled=[r for r in seen if r.status == "cancelled"],
        mine=next((r for r in rows if r.user_id == viewer.id), None),
        sees_everyone=everyone,
        may_manage=may_manage(viewer),
        may_sign=may_sign_off(session, viewer),
        booking_open=booking_open(session),
        attendance_open=attendance_open(session),
    )


def attendees(session_id: int, viewer: User) -> list[SessionRegistration]:
    """The registrations (all statuses) the viewer may see. Raises NotFound."""
    session = get_session(session_id)
    seen, _ = visible_registrations(session, registrations(session.id), viewer)
    return seen


# --- choices for the forms -------------------------------------------------------------------


def course_choices(include_id: int | None = None) -> list[tuple[int, str]]:
    """Published courses (and the session's own course when editing), by title."""
    cond = Course.status == "published"
    if include_id:
        cond = or_(cond, Course.id == include_id)
    rows = db.session.execute(
        select(Course.id, Course.code, Course.title).where(cond).order_by(Course.title, Course.id)
    )
    return [(i, f"{title} ({code})") for i, code, title in rows]


def instructor_choices() -> list[tuple[int, str]]:
    """Active people who may teach (trainer or admin role), by name."""
    rows = db.session.execute(
        select(User.id, User.name)
        .where(
            User.active.is_(True),
            User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(INSTRUCTOR_ROLES))),
        )
        .order_by(User.name, User.id)
    )
    return [(i, name) for i, name in rows]


def bookable_people(actor: User, limit: int = CHOICES_LIMIT) -> list[User]:
    """Active people `actor` may book besides themself: a manager's reports, else everyone."""
    if not can(actor, "session.register_others"):
        return []
    stmt = (
        select(User)
        .where(User.active.is_(True), User.id != actor.id)
        .options(lazyload(User.role_grants))
        .order_by(User.name, User.id)
        .limit(limit)
    )
    if not actor.roles & (PERMISSIONS["session.register_others"] - {"manager"}):
        stmt = stmt.where(User.manager_id == actor.id)
    return list(db.session.scalars(stmt))
