"""Training records: enrollments, progress per module, results, certifications."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.platform import clock
from app.platform.db import JSONType, UTCDateTime

ENROLLMENT_STATUSES = ("assigned", "in_progress", "completed", "failed", "waived", "expired")
ENROLLMENT_SOURCES = (
    "self",
    "manager",
    "rule",
    "requirement",
    "document",
    "session",
    "kpi",
    "import",
)


class Enrollment(db.Model):
    __tablename__ = "training_enrollments"
    __table_args__ = (
        # One live enrollment per person and course; history rows come with recertification.
        UniqueConstraint("user_id", "course_id", "cycle"),
        Index("ix_training_enrollments_course_status", "course_id", "status"),
        Index("ix_training_enrollments_user_status", "user_id", "status"),
        # Read-and-understand training: one enrollment per person and document version.
        Index(
            "uq_training_enrollments_user_document_version",
            "user_id",
            "document_version_id",
            unique=True,
            postgresql_where=text("document_version_id IS NOT NULL"),
            sqlite_where=text("document_version_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    cycle: Mapped[int] = mapped_column(default=1)
    source: Mapped[str] = mapped_column(String(20), default="self")
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="assigned")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Best passing-relevant score (percent) once graded; drives the completion rule.
    score: Mapped[float | None] = mapped_column()
    # A renewal's validity counts from this date (the previous expiry) when it is completed
    # before it, so renewing early never shortens the next cycle.
    anchor_date: Mapped[date | None] = mapped_column(Date)
    # The controlled-document version this read-and-understand enrollment is for.
    document_version_id: Mapped[int | None] = mapped_column(ForeignKey("document_versions.id"))

    user = relationship("User", foreign_keys=[user_id])
    course = relationship("Course")


PROGRESS_STATUSES = ("not_started", "in_progress", "completed")


class Progress(db.Model):
    """How far one enrollment is through one module."""

    __tablename__ = "training_progress"
    __table_args__ = (UniqueConstraint("enrollment_id", "module_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("training_enrollments.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("training_modules.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    percent: Mapped[int] = mapped_column(default=0)
    time_spent_seconds: Mapped[int] = mapped_column(default=0)
    # Video seconds or document page, so the player resumes where the learner left off.
    position: Mapped[float | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enrollment = relationship("Enrollment")
    module = relationship("Module")


RESULT_KINDS = ("quiz", "assignment", "scenario")
RESULT_STATUSES = ("in_progress", "submitted", "graded")


class Result(db.Model):
    """One quiz attempt or assignment submission and its grade.

    Quiz attempts are graded by a job (graded_by_id NULL); assignments by a trainer.
    """

    __tablename__ = "training_results"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "module_id", "attempt_no"),
        Index("ix_training_results_user_id", "user_id"),
        Index("ix_training_results_status_kind", "status", "kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("training_enrollments.id"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("training_modules.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))
    attempt_no: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default="in_progress")
    # The questions drawn for this attempt, in the order shown, with the version each had.
    questions: Mapped[list] = mapped_column(JSONType, default=list)
    answers: Mapped[dict] = mapped_column(JSONType, default=dict)
    feedback: Mapped[dict] = mapped_column(JSONType, default=dict)
    score: Mapped[float | None] = mapped_column()
    max_score: Mapped[float | None] = mapped_column()
    passed: Mapped[bool | None] = mapped_column()
    # Assignments: the learner's text and/or file, the trainer's rubric scores and comment.
    submission_text: Mapped[str | None] = mapped_column(Text)
    submission_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    rubric_scores: Mapped[dict] = mapped_column(JSONType, default=dict)
    comment: Mapped[str | None] = mapped_column(Text)
    graded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enrollment = relationship("Enrollment")
    module = relationship("Module")
    user = relationship("User", foreign_keys=[user_id])
    graded_by = relationship("User", foreign_keys=[graded_by_id])
    submission_file = relationship("StoredFile")


CERTIFICATION_STATUSES = ("active", "expiring", "expired", "revoked")


class Certification(db.Model):
    """A certificate: issued once per completed enrollment (the unique constraint enforces it)."""

    __tablename__ = "training_certifications"
    __table_args__ = (
        Index("ix_training_certifications_user_id", "user_id"),
        Index("ix_training_certifications_expires_at", "expires_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"), index=True)
    # NULL for certificates issued by hand without an enrollment.
    enrollment_id: Mapped[int | None] = mapped_column(
        ForeignKey("training_enrollments.id"), unique=True
    )
    number: Mapped[str] = mapped_column(String(40), unique=True)
    verification_code: Mapped[str] = mapped_column(String(40), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    course_version: Mapped[int] = mapped_column(default=1)
    score: Mapped[float | None] = mapped_column()
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)

    user = relationship("User", foreign_keys=[user_id])
    course = relationship("Course")
    enrollment = relationship("Enrollment")
    file = relationship("StoredFile")
    issued_by = relationship("User", foreign_keys=[issued_by_id])
