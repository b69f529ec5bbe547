"""Instructor-led sessions: what every session use case shares, and the reads.

The use cases sit above this module, each in its own: app.classroom.scheduling (create, edit
and cancel sessions and series), app.classroom.booking (seats, the waitlist, cancelling a
booking) and app.classroom.attendance (attendance marks and the trainer's sign-off). Here is
what they all need: the audited fields and their snapshots, who may manage, teach and sign off,
loading a session and locking its row, when booking closes and attendance opens (the detail
page shows both), wall-clock helpers; and the reads the pages, the API and the calendar show:
lists and their filters, a time window, one session's row and detail, the registrations a
viewer may see.

Shared rules, decided here once for the pages and the API:
- Booking closes at the registration deadline, or at the start when there is none.
  Attendance opens at the start.
- Seats are counted with the session row locked (lock_session: SELECT ... FOR UPDATE on
  PostgreSQL), so concurrent bookings never overbook.
- Session managers and the session's instructors see every registration, a manager their
  direct reports', anyone else their own.
Every change writes its audit row (entities "training_session" and "session_registration").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from app.classroom.eligibility import (
    Eligibility,
    check_eligibility,
    describe,
    eligible_clause,
    restrictions_of,
)
from app.classroom.models import (
    SESSION_STATUSES,
    SessionInstructor,
    SessionRegistration,
    TrainingSession,
)
from app.extensions import db
from app.learning.models import Course
from app.people.models import User
from app.people.permissions import can
from app.platform import clock, timefmt
from app.platform.audit import snapshot
from app.platform.errors import Forbidden, Invalid, NotFound
from app.platform.inputs import blank, to_id
from app.platform.pagination import Page, clamp
from app.platform.timefmt import iso_utc
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
ACTIVE = ("registered", "waitlisted")


# --- small helpers ---------------------------------------------------------------------------


def local_input(value: datetime | None, tz_name: str | None) -> str:
    """A UTC moment as the wall-clock value of an <input type=datetime-local> in `tz_name`."""
    if value is None:
        return ""
    return value.astimezone(timefmt.zone(tz_name)).strftime("%Y-%m-%dT%H:%M")


def local_label(value: datetime, tz_name: str | None, fmt: str = timefmt.DATE_TIME) -> str:
    """A moment in a person's zone for messages, the zone named ("Mon 14 Dec 2026 09:00 CET")."""
    return timefmt.wall(value, tz_name, fmt)


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


def session_snapshot(session: TrainingSession) -> dict[str, Any]:
    out = _plain_snapshot(session, SESSION_FIELDS)
    out["instructor_ids"] = sorted(i.user_id for i in session.instructors)
    out.update(restrictions_of(session).as_fields())
    return out


def registration_snapshot(reg: SessionRegistration) -> dict[str, Any]:
    return _plain_snapshot(reg, REGISTRATION_FIELDS)


def aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def is_instructor(session: TrainingSession, user: User | None) -> bool:
    return user is not None and any(i.user_id == user.id for i in session.instructors)


def may_manage(user: User | None) -> bool:
    return can(user, "session.manage")


def may_sign_off(session: TrainingSession, user: User | None) -> bool:
    return user is not None and (is_instructor(session, user) or user.has_role("admin"))


def require_manage(actor: User | None) -> None:
    if not may_manage(actor):
        raise Forbidden("Only trainers, HR and admins manage sessions.")


def booking_closes_at(session: TrainingSession) -> datetime:
    return aware(session.registration_deadline or session.starts_at)


def booking_open(session: TrainingSession, now: datetime | None = None) -> bool:
    return session.status == "scheduled" and (now or clock.now()) < booking_closes_at(session)


def attendance_open(session: TrainingSession, now: datetime | None = None) -> bool:
    return session.status == "scheduled" and (now or clock.now()) >= aware(session.starts_at)


# --- loading ---------------------------------------------------------------------------------


def session_load_options() -> list:
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
        .options(*session_load_options())
        .execution_options(populate_existing=True)
    )
    if session is None:
        raise NotFound(f"Session {session_id} does not exist.")
    return session


def lock_session(session_id: int) -> TrainingSession:
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


def count_registrations(session_id: int, status: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(SR).where(SR.session_id == session_id, SR.status == status)
    )


# --- reading: lists, the calendar, one session -----------------------------------------------


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
    bookable: bool = False  # only sessions the viewer may book (eligibility, not seats)


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
        options = session_load_options()
    else:
        # A month grid shows course titles only: not the instructors (selectin by default)
        # nor the courses' wide rows.
        options = [
            selectinload(TS.course).load_only(Course.id, Course.title),
            lazyload(TS.instructors),
            lazyload(TS.restrictions),
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
    if filters.bookable and viewer is not None:
        stmt = stmt.where(eligible_clause(viewer))
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
            bookable=(args.get("bookable") or "") in ("1", "true", "on", "yes"),
        )
        zone = timefmt.zone(viewer.timezone if viewer is not None else "UTC")
        start = _bound(errors, "from", args.get("from"), zone, end_of_day=False)
        end = _bound(errors, "to", args.get("to"), zone, end_of_day=True)
        if start and end and end <= start:
            errors["to"] = ["Must be after `from`."]
            end = None
        if errors and strict:
            raise Invalid("Some filters are not valid.", errors)
        if start is None and upcoming and "from" not in errors and blank(args.get("from")):
            start = clock.now()
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
        clock.now(),
        datetime(2101, 1, 1, tzinfo=UTC),
        SessionFilters(booked_by=user.id),
        user,
        limit,
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
    eligibility: Eligibility = field(default_factory=Eligibility)
    who_may_book: list[str] = field(default_factory=list)

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
        return clock.now() < aware(self.session.starts_at)

    @property
    def local_when(self) -> str:
        """Start and end as wall-clock times where the session happens, its zone named."""
        return timefmt.wall_range(
            self.session.starts_at, self.session.ends_at, self.session.timezone
        )

    def local_when_for(self, viewer_tz: str | None) -> str:
        """local_when when the session's clocks differ from the viewer's at its start (a
        secondary line, labelled local time); "" when they read the same."""
        start = aware(self.session.starts_at)
        here = start.astimezone(timefmt.zone(viewer_tz)).utcoffset()
        there = start.astimezone(timefmt.zone(self.session.timezone)).utcoffset()
        return "" if here == there else self.local_when

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
        eligibility=check_eligibility(session, viewer),
        who_may_book=describe(restrictions_of(session)),
    )


def attendees(session_id: int, viewer: User) -> list[SessionRegistration]:
    """The registrations (all statuses) the viewer may see. Raises NotFound."""
    session = get_session(session_id)
    seen, _ = visible_registrations(session, registrations(session.id), viewer)
    return seen
