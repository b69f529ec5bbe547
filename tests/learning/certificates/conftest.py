"""Helpers for the certificate tests: completed enrollments, PDF text, audit counts."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.platform.audit import AuditLog
from tests.learning.factories import CourseFactory, EnrollmentFactory
from tests.people.factories import UserFactory

COMPLETED_AT = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


def completed_enrollment(user=None, course=None, completed_at=COMPLETED_AT, score=92.5):
    """An enrollment the completion rule has already closed."""
    return EnrollmentFactory(
        user=user or UserFactory(),
        course=course or CourseFactory(validity_months=12, version=3),
        status="completed",
        started_at=completed_at,
        completed_at=completed_at,
        score=score,
    )


def audit_count(entity: str, action: str | None = None, entity_id=None) -> int:
    q = select(func.count()).select_from(AuditLog).where(AuditLog.entity == entity)
    if action:
        q = q.where(AuditLog.action == action)
    if entity_id is not None:
        q = q.where(AuditLog.entity_id == str(entity_id))
    return db.session.scalar(q)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def pdf_text(data: bytes, tmp_path) -> str | None:
    """The text of a PDF via poppler's pdftotext; None when the binary is missing."""
    binary = shutil.which("pdftotext")
    if binary is None:
        return None
    path = tmp_path / "cert.pdf"
    path.write_bytes(data)
    out = subprocess.run(  # noqa: S603  (our own file, a fixed binary)
        [binary, "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return out.stdout


@pytest.fixture
def learner(app):
    return UserFactory(roles=["employee"], name="Ada Lovelace", email="ada@example.com")


@pytest.fixture
def course(app):
    return CourseFactory(
        code="GMP-101", title="Good Manufacturing Practice Basics", validity_months=12, version=3
    )
