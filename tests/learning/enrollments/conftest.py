"""Helpers for enrollment, progress, records and dashboard tests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.learning.models import Progress, Result
from app.platform import clock
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.learning.factories import CourseFactory, EnrollmentFactory, ModuleFactory
from tests.people.factories import UserFactory


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audit_rows(entity: str, action: str | None = None) -> list[AuditLog]:
    q = select(AuditLog).where(AuditLog.entity == entity)
    if action:
        q = q.where(AuditLog.action == action)
    return list(db.session.scalars(q.order_by(AuditLog.id)))


def course_with_modules(kinds=("text", "text"), required=None, **course_fields):
    """A published course with modules of the given kinds (all required unless said)."""
    course = CourseFactory(**course_fields)
    modules = [
        ModuleFactory(
            course=course,
            position=i + 1,
            kind=kind,
            required=True if required is None else required[i],
        )
        for i, kind in enumerate(kinds)
    ]
    return course, modules


def progress_row(enrollment, module, status="completed", percent=100):
    row = Progress(
        enrollment_id=enrollment.id,
        module_id=module.id,
        status=status,
        percent=percent,
        time_spent_seconds=0,
        completed_at=clock.now() if status == "completed" else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


def result_row(enrollment, module, attempt_no=1, status="graded", score=8.0, minutes_ago=0):
    at = clock.now() - timedelta(minutes=minutes_ago)
    row = Result(
        enrollment_id=enrollment.id,
        module_id=module.id,
        user_id=enrollment.user_id,
        kind=module.kind if module.kind in ("quiz", "assignment") else "quiz",
        attempt_no=attempt_no,
        status=status,
        score=score if status == "graded" else None,
        max_score=10.0,
        passed=(score >= 8) if status == "graded" else None,
        submitted_at=at if status != "in_progress" else None,
        graded_at=at if status == "graded" else None,
    )
    db.session.add(row)
    db.session.commit()
    return row


@pytest.fixture
def learner(app):
    return UserFactory(roles=["employee"], name="Lee Learner")


@pytest.fixture
def signed_in(client, auth):
    """Sign `user` in and return the CSRF token for posts and API writes."""

    def sign_in(user) -> str:
        auth.login(user)
        return csrf(client, "/home")

    return sign_in


__all__ = ["EnrollmentFactory", "count", "course_with_modules", "progress_row", "result_row"]
