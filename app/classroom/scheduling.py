"""Scheduling instructor-led sessions: creating one session or a weekly/monthly series, editing
and cancelling a session, the instructors, and the choices the session form offers. Trainers,
HR and admins (`session.manage`) schedule; times are entered as wall-clock times in the
session's time zone (default: the author's) and stored in UTC; instructors are people with the
trainer or admin role; a series (at most 52) is created in one transaction, each occurrence an
ordinary session with its own uid at the same local time (daylight saving time included).
Double-booked instructors or rooms are warnings, never blocks: the trainer may know better. A
new time or place bumps the iCalendar SEQUENCE and tells everyone booked, a cancellation keeps
the session and tells them too, and more seats promote from the waitlist, which is why this
module sits above app.classroom.booking.
"""

from __future__ import annotations

import re
import uuid
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from app.classroom import eligibility
from app.classroom.booking import fill_seats
from app.classroom.eligibility import Restrictions, restrictions_of, set_restrictions
from app.classroom.models import SERIES_RULES, SessionInstructor, SessionSeries, TrainingSession
from app.classroom.sessions import (
    ACTIVE,
    SR,
    TS,
    aware,
    count_registrations,
    get_session,
    local_label,
    lock_session,
    require_manage,
    session_load_options,
    session_path,
    session_snapshot,
    session_title,
)
from app.extensions import db
from app.learning.models import Course
from app.notifications.notify import notify
from app.people.models import Department, JobRole, User, UserRole
from app.platform import clock, timefmt
from app.platform.audit import read_back, record_audit
from app.platform.errors import Conflict, Invalid
from app.platform.inputs import blank, to_choice, to_id, to_id_list, to_int, to_text
from app.platform.timefmt import known_zones

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
    *eligibility.FIELDS,
)
SERIES_FIELDS = ("repeat", "occurrences", "interval")
# A change to any of these moves the session in people's calendars: SEQUENCE goes up and
# the people booked are told when or where changed.
MOVING_FIELDS = ("starts_at", "ends_at", "location", "online_url")
CALENDAR_FIELDS = (*MOVING_FIELDS, "title", "status")
INSTRUCTOR_ROLES = ("trainer", "admin")
MAX_OCCURRENCES = 52
MAX_INTERVAL = 12
MAX_CAPACITY = 10_000
MAX_DURATION = timedelta(days=7)
_URL = re.compile(r"^https?://[^\s/?#]+\.[^\s]*$", re.IGNORECASE)


# --- validation ------------------------------------------------------------------------------


def new_uid() -> str:
    """A globally unique, permanent iCalendar UID for one session."""
    return f"session-{uuid.uuid4().hex}@cadre"


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
        taken = count_registrations(current.id, "registered")
        if capacity < taken:
            errors["capacity"] = [
                f"{taken} people hold a seat; cancel some bookings first or keep at least {taken}."
            ]
    restrictions = _clean_restrictions(errors, data, current, course_id)
    if errors:
        raise Invalid("Some session fields are not valid.", errors)
    return {
        "restrictions": restrictions,
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


def _id_values(value: Any) -> Any:
    """A form's multi-select sends strings, a blank choice included; the API a list of ints."""
    if isinstance(value, list | tuple):
        return [v for v in value if not blank(v)]
    return value


def _clean_restrictions(
    errors: dict, data: dict, current: TrainingSession | None, course_id: int | None
) -> Restrictions:
    """Who may book: the four eligibility fields, each kept from `current` when absent."""
    have = restrictions_of(current) if current is not None else Restrictions()
    out = Restrictions(
        sites=list(have.sites),
        department_ids=list(have.department_ids),
        job_role_ids=list(have.job_role_ids),
        course_ids=list(have.course_ids),
    )
    if "eligible_sites" in data:
        value = _id_values(data["eligible_sites"]) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            errors["eligible_sites"] = ["A list of site names."]
        else:
            known = set(site_choices())
            wanted = sorted({v.strip() for v in value})
            unknown = [v for v in wanted if v not in known]
            if unknown:
                errors["eligible_sites"] = [f"No department is at the site {unknown[0]}."]
            out.sites = wanted
    for name, model, attr, label in (
        ("eligible_department_ids", Department, "department_ids", "department"),
        ("eligible_job_role_ids", JobRole, "job_role_ids", "job role"),
        ("prerequisite_course_ids", Course, "course_ids", "course"),
    ):
        if name not in data:
            continue
        ids = sorted(set(to_id_list(errors, name, _id_values(data[name]) or [])))
        if name in errors:
            continue
        found = set(db.session.scalars(select(model.id).where(model.id.in_(ids)))) if ids else set()
        missing = [str(i) for i in ids if i not in found]
        if missing:
            errors[name] = [f"No such {label}: {', '.join(missing)}."]
        elif name == "prerequisite_course_ids" and course_id in ids:
            errors[name] = ["A course cannot be its own prerequisite."]
        setattr(out, attr, ids)
    return out


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
    zone = timefmt.zone(clean["timezone"])
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
        .options(*session_load_options())
        .order_by(TS.starts_at, TS.id)
    )
    if exclude_ids:
        stmt = stmt.where(TS.id.not_in(list(exclude_ids)))
    warnings: list[str] = []
    for other in db.session.scalars(stmt):
        start, end = aware(other.starts_at), aware(other.ends_at)
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
    require_manage(actor)
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
        set_restrictions(session, clean["restrictions"])
        db.session.add(session)
        sessions.append(session)
    db.session.flush()
    for number, session in enumerate(sessions, start=1):
        reason = f"series {series_row.id} ({rule}), {number} of {count}" if series_row else None
        record_audit(
            "create",
            "training_session",
            session.id,
            after=session_snapshot(read_back(session)),
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
    require_manage(actor)
    lock_session(session_id)
    session = get_session(session_id)
    if session.status != "scheduled":
        raise Conflict(f"This session is {session.status}; it can no longer be changed.")
    clean = _clean(data, actor, session)
    before = session_snapshot(session)
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
    set_restrictions(session, clean["restrictions"])
    after = session_snapshot(session)
    changed = [k for k in after if before[k] != after[k]]
    if not changed:
        db.session.rollback()
        return Saved([get_session(session_id)])
    moved = any(k in MOVING_FIELDS for k in changed)
    if any(k in CALENDAR_FIELDS for k in changed):
        session.sequence += 1
    record_audit(
        "update",
        "training_session",
        session.id,
        before=before,
        after=session_snapshot(read_back(session)),
        actor=actor,
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
        fill_seats(session, actor)
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
    require_manage(actor)
    errors: dict[str, list[str]] = {}
    text = to_text(errors, "reason", reason, 2000)
    if errors:
        raise Invalid("The reason is not valid.", errors)
    lock_session(session_id)
    session = get_session(session_id)
    if session.status == "completed":
        raise Conflict("This session is completed and signed off; it cannot be cancelled.")
    if session.status == "cancelled":
        db.session.rollback()
        return session
    before = session_snapshot(session)
    session.status = "cancelled"
    session.cancelled_at = clock.now()
    session.cancel_reason = text
    session.sequence += 1
    record_audit(
        "cancel",
        "training_session",
        session.id,
        before=before,
        after=session_snapshot(read_back(session)),
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


# --- choices for the form --------------------------------------------------------------------


def course_choices(include_id: int | None = None) -> list[tuple[int, str]]:
    """Published courses (and the session's own course when editing), by title."""
    cond = Course.status == "published"
    if include_id:
        cond = or_(cond, Course.id == include_id)
    rows = db.session.execute(
        select(Course.id, Course.code, Course.title).where(cond).order_by(Course.title, Course.id)
    )
    return [(i, f"{title} ({code})") for i, code, title in rows]


def site_choices() -> list[str]:
    """The sites departments are at, by name (what a session can be restricted to)."""
    return list(
        db.session.scalars(
            select(Department.site)
            .where(Department.site.is_not(None))
            .distinct()
            .order_by(Department.site)
        )
    )


def department_choices() -> list[tuple[int, str]]:
    """Departments by name, with their site."""
    rows = db.session.execute(
        select(Department.id, Department.name, Department.site).order_by(Department.name)
    )
    return [(i, f"{name} ({site})" if site else name) for i, name, site in rows]


def job_role_choices() -> list[tuple[int, str]]:
    """Job roles by name."""
    return [
        (i, n)
        for i, n in db.session.execute(select(JobRole.id, JobRole.name).order_by(JobRole.name))
    ]


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
