"""The training calendar: which sessions fall in a month, a week or a list period, for a viewer.

Everything is laid out in the viewer's time zone: a session belongs to the day it starts on
there. sessions.sessions_between fetches the period's sessions with their seats taken; the grid
is plain Python over those rows.
"""

from __future__ import annotations

import calendar as pycal
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select

from app.classroom.models import SessionRegistration, TrainingSession
from app.classroom.sessions import ACTIVE, SessionFilters, sessions_between
from app.extensions import db
from app.people.models import User
from app.platform import clock
from app.platform.inputs import to_date, to_id
from app.platform.timefmt import wall_range

VIEWS = ("month", "week", "list")
LIST_DAYS = 31
# Month cells show this many sessions, then "+n more" (the list view of that day has them all).
CELL_LIMIT = 4


@dataclass(frozen=True)
class CalendarFilter:
    view: str = "month"
    anchor: date | None = None
    course_id: int | None = None
    instructor_id: int | None = None
    location: str = ""
    mine: bool = False

    @classmethod
    def from_args(cls, args) -> CalendarFilter:
        ignore: dict[str, list[str]] = {}
        view = args.get("view", "month")
        return cls(
            view=view if view in VIEWS else "month",
            anchor=to_date(ignore, "date", args.get("date")),
            course_id=to_id(ignore, "course_id", args.get("course_id")),
            instructor_id=to_id(ignore, "instructor_id", args.get("instructor_id")),
            location=(args.get("location") or "").strip()[:200],
            mine=args.get("mine") in ("1", "on", "true"),
        )

    def args(self, **change) -> dict[str, Any]:
        """Query-string arguments for a link to this calendar with `change` applied."""
        out = {
            "view": self.view,
            "date": self.anchor.isoformat() if self.anchor else None,
            "course_id": self.course_id,
            "instructor_id": self.instructor_id,
            "location": self.location or None,
            "mine": "1" if self.mine else None,
        }
        out.update(change)
        return {k: v for k, v in out.items() if v not in (None, "")}


@dataclass
class Entry:
    """A session as the calendar shows it."""

    session: TrainingSession
    starts: datetime  # in the viewer's zone
    ends: datetime
    seats_taken: int
    waitlisted: int
    mine: bool

    @cached_property
    def seats_left(self) -> int:
        return max(self.session.capacity - self.seats_taken, 0)

    @cached_property
    def state(self) -> str:
        """Colour key: scheduled / full / held (over, attendance not signed off yet) /
        cancelled / completed."""
        if self.session.status != "scheduled":
            return self.session.status
        if self.ends <= clock.now():
            return "held"
        return "full" if self.seats_left == 0 else "scheduled"

    @cached_property
    def title(self) -> str:
        return self.session.title or self.session.course.title

    @cached_property
    def start_time(self) -> str:
        return self.starts.strftime("%H:%M")

    @cached_property
    def end_time(self) -> str:
        return self.ends.strftime("%H:%M")

    @cached_property
    def when(self) -> str:
        """Start–end in the viewer's zone, named: "Mon 2026-12-14 08:00–10:00 GMT"."""
        return wall_range(self.starts, self.ends, self.starts.tzinfo.key, "%a %Y-%m-%d %H:%M")


@dataclass
class Day:
    day: date
    in_period: bool
    today: bool
    entries: list[Entry] = field(default_factory=list)

    @property
    def shown(self) -> list[Entry]:
        return self.entries[:CELL_LIMIT]

    @property
    def more(self) -> int:
        return max(len(self.entries) - CELL_LIMIT, 0)


@dataclass
class CalendarView:
    flt: CalendarFilter
    zone: str
    first: date  # first day of the period
    last: date  # last day of the period (inclusive)
    weeks: list[list[Day]]  # month and week views
    entries: list[Entry]  # every session of the period, in order (list view)
    prev_anchor: date
    next_anchor: date
    today: date

    @property
    def title(self) -> str:
        if self.flt.view == "month":
            return self.first.strftime("%B %Y")
        if self.flt.view == "week":
            return f"Week of {self.first.isoformat()} – {self.last.isoformat()}"
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def period(view: str, anchor: date) -> tuple[date, date, date, date]:
    """(first, last, previous anchor, next anchor) of the period holding `anchor`."""
    if view == "month":
        first = anchor.replace(day=1)
        days = pycal.monthrange(first.year, first.month)[1]
        last = first.replace(day=days)
        prev = (first - timedelta(days=1)).replace(day=1)
        return first, last, prev, last + timedelta(days=1)
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        return first, first + timedelta(days=6), first - timedelta(days=7), first + timedelta(7)
    first = anchor
    return (
        first,
        first + timedelta(days=LIST_DAYS - 1),
        first - timedelta(LIST_DAYS),
        (first + timedelta(LIST_DAYS)),
    )


def _bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time.min, zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, zone).astimezone(UTC)
    return start, end


@dataclass(frozen=True)
class Window:
    """The period shown (first..last), the days its grid covers (Monday to Sunday around a
    month or week), the neighbouring periods, and the grid's span as UTC instants."""

    first: date
    last: date
    grid_first: date
    grid_last: date
    prev_anchor: date
    next_anchor: date
    start: datetime
    end: datetime


def _window(flt: CalendarFilter, zone: ZoneInfo, today: date) -> Window:
    first, last, prev_anchor, next_anchor = period(flt.view, flt.anchor or today)
    grid_first = first - timedelta(days=first.weekday()) if flt.view != "list" else first
    grid_last = last + timedelta(days=6 - last.weekday()) if flt.view != "list" else last
    start, end = _bounds(grid_first, grid_last, zone)
    return Window(first, last, grid_first, grid_last, prev_anchor, next_anchor, start, end)


def viewer_zone(viewer: User | None) -> str:
    return _zone(viewer.timezone if viewer is not None else None).key


def build_calendar(
    flt: CalendarFilter, viewer: User | None, now=None, zone_name: str | None = None
) -> CalendarView:
    """The calendar for one period as the viewer sees it (in the viewer's time zone).

    With no viewer, nobody's sessions are marked as theirs: the grid every viewer in
    `zone_name` shares (see my_session_ids).
    """
    zone = _zone(zone_name if zone_name is not None else viewer_zone(viewer))
    today = (now or clock.now()).astimezone(zone).date()
    w = _window(flt, zone, today)
    filters = SessionFilters(
        course_id=flt.course_id,
        instructor_id=flt.instructor_id,
        location=flt.location,
        mine=flt.mine,
    )
    entries = [
        Entry(
            row.session,
            row.session.starts_at.astimezone(zone),
            row.session.ends_at.astimezone(zone),
            row.taken,
            row.waiting,
            row.my_status in ("registered", "waitlisted"),
        )
        for row in sessions_between(
            w.start, w.end, filters, viewer, with_instructors=flt.view == "list"
        )
    ]
    by_day: dict[date, list[Entry]] = defaultdict(list)
    for e in entries:
        by_day[e.starts.date()].append(e)
    weeks: list[list[Day]] = []
    if flt.view != "list":
        day = w.grid_first
        while day <= w.grid_last:
            week = []
            for _ in range(7):
                shown = w.first <= day <= w.last
                week.append(Day(day, shown, day == today, by_day.get(day, [])))
                day += timedelta(days=1)
            weeks.append(week)
    in_period = [e for e in entries if w.first <= e.starts.date() <= w.last]
    return CalendarView(
        flt=flt,
        zone=zone.key,
        first=w.first,
        last=w.last,
        weeks=weeks,
        entries=in_period,
        prev_anchor=w.prev_anchor,
        next_anchor=w.next_anchor,
        today=today,
    )


def my_session_ids(flt: CalendarFilter, viewer: User, now=None) -> list[int]:
    """The sessions of the period the viewer holds a seat or a waitlist place on."""
    zone = _zone(viewer.timezone)
    today = (now or clock.now()).astimezone(zone).date()
    w = _window(flt, zone, today)
    return list(
        db.session.scalars(
            select(SessionRegistration.session_id)
            .join(TrainingSession, TrainingSession.id == SessionRegistration.session_id)
            .where(
                SessionRegistration.user_id == viewer.id,
                SessionRegistration.status.in_(ACTIVE),
                TrainingSession.starts_at < w.end,
                TrainingSession.ends_at > w.start,
            )
        )
    )
