"""Names of sessions and bookings in the audit trail and in signatures (registered with
app.audit.labels): "GMP-101 Good Manufacturing Practice, 2026-12-14 09:00 UTC, Lab 2" instead
of "training_session #12". One query per page of rows, as the trail asks."""

from __future__ import annotations

from sqlalchemy import select

from app.audit import labels
from app.classroom.models import SessionRegistration, TrainingSession
from app.extensions import db
from app.learning.models import Course
from app.people.models import User

T = TrainingSession


def _sessions(ids):
    rows = db.session.execute(
        select(T.id, T.title, T.starts_at, T.location, Course.code, Course.title)
        .join(Course, Course.id == T.course_id)
        .where(T.id.in_(ids))
    )
    out = {}
    for i, title, starts_at, location, code, course_title in rows:
        name = f"{code} {title or course_title}, {starts_at:%Y-%m-%d %H:%M} UTC"
        out[i] = f"{name}, {location}" if location else name
    return out


def _registrations(ids):
    rows = db.session.execute(
        select(SessionRegistration.id, User.name, SessionRegistration.session_id)
        .join(User, User.id == SessionRegistration.user_id)
        .where(SessionRegistration.id.in_(ids))
    ).all()
    sessions = _sessions(sorted({s for _, _, s in rows}))
    return {i: f"{person} · {sessions.get(s, f'session #{s}')}" for i, person, s in rows}


labels.register_kind("training_session", "Training session", _sessions)
labels.register_kind("session_registration", "Booking", _registrations)
labels.register_field("session_id", "Session", "training_session")
