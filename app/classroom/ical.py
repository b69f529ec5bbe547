"""iCalendar (RFC 5545): a .ics per session and a secret per-person subscription feed.

UIDs come from the session's stored uid, so they stay the same across edits; SEQUENCE is the
session's own counter (bumped on every change people should see); a cancelled session is sent
as STATUS:CANCELLED rather than dropped, so calendars remove it. Times carry their TZID with a
VTIMEZONE, in the session's own time zone.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from app.classroom.models import CalendarFeed, SessionRegistration, TrainingSession
from app.compliance.models import CompetencyRequirement
from app.compliance.statuses import Scope, status_query
from app.extensions import db
from app.people.models import User
from app.platform import clock
from app.platform.web.urls import public_url

PRODID = "-//Cadre//Training calendar//EN"
DOMAIN = "cadre"
# What the feed lists: booked sessions from this long ago, and open due dates.
FEED_PAST = timedelta(days=90)
OPEN = ("not_started", "due_soon", "overdue", "expired")


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _calendar(name: str) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    return cal


def _url(path: str) -> str:
    return public_url(path)


def session_event(session: TrainingSession, stamp: datetime) -> icalendar.Event:
    zone = _zone(session.timezone)
    event = icalendar.Event()
    event.add("uid", f"session-{session.uid}@{DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", session.starts_at.astimezone(zone))
    event.add("dtend", session.ends_at.astimezone(zone))
    event.add("summary", session.title or session.course.title)
    event.add("sequence", session.sequence or 0)
    event.add("status", "CANCELLED" if session.status == "cancelled" else "CONFIRMED")
    where = ", ".join(x for x in (session.location, session.online_url) if x)
    if where:
        event.add("location", where)
    event.add("url", _url(f"/sessions/{session.id}"))
    instructors = ", ".join(i.user.name for i in session.instructors)
    lines = [f"Course: {session.course.title} ({session.course.code})"]
    if instructors:
        lines.append(f"Instructor: {instructors}")
    if session.online_url:
        lines.append(f"Join: {session.online_url}")
    if session.notes:
        lines.append(session.notes)
    event.add("description", "\n".join(lines))
    event.add("last-modified", session.updated_at or session.created_at)
    return event


def _render(cal: icalendar.Calendar) -> bytes:
    cal.add_missing_timezones()
    return cal.to_ical()


def session_ics(session: TrainingSession) -> bytes:
    """One session as a .ics file."""
    cal = _calendar(session.title or session.course.title)
    cal.add_component(session_event(session, clock.now()))
    return _render(cal)


def due_event(user_id: int, req: CompetencyRequirement, row, stamp: datetime) -> icalendar.Event:
    """An all-day event on a training due date (UID per person, requirement and cycle)."""
    event = icalendar.Event()
    cycle = row.cycle or 1
    event.add("uid", f"due-{user_id}-{req.id}-{cycle}@{DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("dtstart", row.due_date)
    event.add("dtend", row.due_date + timedelta(days=1))
    event.add("summary", f"Training due: {req.target_title}")
    event.add("transp", "TRANSPARENT")
    event.add("url", _url("/me/record"))
    event.add("description", f"{req.target_title} is {row.status.replace('_', ' ')}.")
    return event


def feed_ics(user: User, on: date | None = None) -> bytes:
    """A person's booked sessions and open training due dates, for a calendar subscription."""
    now = clock.now()
    on = on or now.date()
    cal = _calendar(f"Cadre training · {user.name}")
    sessions = db.session.scalars(
        select(TrainingSession)
        .join(SessionRegistration, SessionRegistration.session_id == TrainingSession.id)
        .where(
            SessionRegistration.user_id == user.id,
            SessionRegistration.status == "registered",
            TrainingSession.ends_at >= now - FEED_PAST,
        )
        .options(
            selectinload(TrainingSession.course),
            selectinload(TrainingSession.instructors),
        )
        .order_by(TrainingSession.starts_at)
    ).all()
    for session in sessions:
        cal.add_component(session_event(session, now))
    q = status_query(on, Scope(user_ids=[user.id])).subquery()
    rows = db.session.execute(
        select(q.c.requirement_id, q.c.status, q.c.due_date, q.c.cycle)
        .where(q.c.status.in_(OPEN), q.c.due_date.is_not(None))
        .order_by(q.c.due_date)
    ).all()
    reqs = _requirements(r.requirement_id for r in rows)
    for row in rows:
        cal.add_component(due_event(user.id, reqs[row.requirement_id], row, now))
    return _render(cal)


def _requirements(ids: Iterable[int]) -> dict[int, CompetencyRequirement]:
    ids = set(ids)
    if not ids:
        return {}
    found = db.session.scalars(
        select(CompetencyRequirement)
        .where(CompetencyRequirement.id.in_(ids))
        .options(
            selectinload(CompetencyRequirement.course),
            selectinload(CompetencyRequirement.curriculum),
        )
    )
    return {r.id: r for r in found}


# --- subscription URLs -----------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_feed(user_id: int) -> CalendarFeed | None:
    return db.session.scalar(
        select(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id.desc())
        .limit(1)
    )


def new_feed_token(user: User) -> str:
    """Revoke the person's feed URL (if any) and return the secret of a new one (shown once)."""
    revoke_feeds(user.id)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarFeed(user_id=user.id, token_hash=_digest(token)))
    db.session.commit()
    return token


def revoke_feeds(user_id: int) -> int:
    result = db.session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
    db.session.commit()
    return result.rowcount or 0


def user_for_feed(token: str) -> User | None:
    """The active person behind a live feed token, else None."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(User)
        .join(CalendarFeed, CalendarFeed.user_id == User.id)
        .where(
            CalendarFeed.token_hash == _digest(token),
            CalendarFeed.revoked_at.is_(None),
            User.active.is_(True),
        )
    )
