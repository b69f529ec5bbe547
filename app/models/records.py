"""Training records: who is enrolled in what."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow

ENROLLMENT_STATUSES = ("assigned", "in_progress", "completed", "failed", "waived", "expired")
ENROLLMENT_SOURCES = ("self", "manager", "rule", "requirement", "document", "kpi", "import")


class Enrollment(db.Model):
    __tablename__ = "training_enrollments"
    __table_args__ = (
        # One live enrollment per person and course; history rows come with recertification.
        UniqueConstraint("user_id", "course_id", "cycle"),
        Index("ix_training_enrollments_course_status", "course_id", "status"),
        Index("ix_training_enrollments_user_status", "user_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    cycle: Mapped[int] = mapped_column(default=1)
    source: Mapped[str] = mapped_column(String(20), default="self")
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="assigned")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User", foreign_keys=[user_id])
    course = relationship("Course")
