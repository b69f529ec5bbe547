"""Session reminders of the daily sweep: everyone holding a seat on a session that starts
within the next 24 hours, told in their own time zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from app.classroom.models import SessionRegistration, TrainingSession
from app.classroom.sessions import session_path
from app.extensions import db
from app.learning.models import Course
from app.notifications.events import reminders_due
from app.notifications.models import Notification, NotificationPreference
from app.notifications.notify import email_state_for
from app.people.models import User
from app.platform import clock
from app.platform.sql import upsert
from app.platform.timefmt import zone

SESSION_REMINDER_HOURS = 24

N = Notification
P = NotificationPreference


@reminders_due.connect
def remind_of_sessions(on: date, now: datetime) -> list[tuple[str, int, str]]:
    """notifications.reminders_due, in the sweep's transaction: tomorrow's session reminders."""
    return create_session_reminders(now)


def create_session_reminders(now: datetime) -> list[tuple[str, int, str]]:
    """Insert a reminder for everyone holding a seat on a session starting in the next 24 h.

    Few rows (one day of sessions), so they are built here, where each start time can be shown
    in the person's own timezone, and inserted in one statement. Keyed by session, person and
    start, so a rescheduled session is reminded of again. Returns (kind, id, email_state).
    """
    until = now + timedelta(hours=SESSION_REMINDER_HOURS)
    S, G = TrainingSession, SessionRegistration
    found = db.session.execute(
        select(
            G.user_id,
            S.id,
            S.starts_at,
            S.location,
            S.online_url,
            func.coalesce(S.title, Course.title).label("title"),
            User.timezone,
            P.email_off,
            P.daily_digest,
        )
        .join(S, S.id == G.session_id)
        .join(Course, Course.id == S.course_id)
        .join(User, User.id == G.user_id)
        .outerjoin(P, P.user_id == G.user_id)
        .where(
            S.status == "scheduled",
            S.starts_at > now,
            S.starts_at <= until,
            G.status == "registered",
            User.active.is_(True),
        )
    ).all()
    if not found:
        return []
    created_at = clock.now()
    rows = []
    for r in found:
        starts = _local(r.starts_at, r.timezone)
        where = r.location or ("online" if r.online_url else "")
        body = f"{r.title} starts {starts}" + (f", {where}." if where else ".")
        soon = "Tomorrow" if r.starts_at - now > timedelta(hours=12) else "Starting soon"
        rows.append(
            {
                "user_id": r.user_id,
                "kind": "session_reminder",
                "title": f"{soon}: {r.title}"[:300],
                "body": body,
                "url": session_path(r.id),
                "dedupe_key": f"session:{r.id}:{r.user_id}:{r.starts_at:%Y%m%dT%H%M}",
                "created_at": created_at,
                "email_state": email_state_for(
                    "session_reminder", r.email_off or [], bool(r.daily_digest)
                ),
                "email_attempts": 0,
            }
        )
    inserted = db.session.execute(
        upsert(N).on_conflict_do_nothing().returning(N.kind, N.id, N.email_state), rows
    ).all()
    return [tuple(r) for r in inserted]


def _local(moment: datetime, tz: str | None) -> str:
    local = moment.astimezone(zone(tz))
    return f"{local:%a %d %b %Y at %H:%M} ({local.tzinfo.key})"
