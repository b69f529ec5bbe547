"""Fixtures for session tests: a trainer, a course, and a helper that schedules a session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.classroom.scheduling import create_sessions
from app.extensions import db
from app.notifications.models import Notification
from app.platform import clock
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory

HX = {"HX-Request": "true"}


@pytest.fixture
def trainer(app):
    return UserFactory(roles=["trainer"], name="Tina Trainer", timezone="Europe/Zurich")


@pytest.fixture
def course(app):
    return CourseFactory(title="Cleanroom gowning", code="GMP-120", validity_months=12)


def at(days: float = 7, hour: int | None = None):
    """A whole-minute UTC moment `days` from now (optionally at a given UTC hour)."""
    moment = (clock.now() + timedelta(days=days)).replace(second=0, microsecond=0)
    return moment.replace(hour=hour, minute=0) if hour is not None else moment


def schedule(trainer, course, *, days: float = 7, hours: int = 2, capacity: int = 10, **extra):
    """Create one session through the service; returns it."""
    start = at(days)
    data = {
        "course_id": course.id,
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=hours)).isoformat(),
        "capacity": capacity,
        "location": "Basel B2",
        **extra,
    }
    return create_sessions(data, trainer).session


def notifications(user_id: int, kind: str | None = None) -> list[Notification]:
    q = select(Notification).where(Notification.user_id == user_id).order_by(Notification.id)
    if kind:
        q = q.where(Notification.kind == kind)
    return list(db.session.scalars(q))
