"""Learning: courses, their ordered modules and quiz questions, and the training records
(enrollments, progress per module, results, certifications)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.platform import clock
from app.platform.db import JSONType, UTCDateTime
from app.platform.files import StoredFile

COURSE_STATUSES = ("draft", "published", "retired")
COURSE_LEVELS = ("beginner", "intermediate", "advanced")
MODULE_KINDS = ("text", "video", "document", "quiz", "assignment", "scenario", "sop")
QUESTION_KINDS = ("single", "multiple", "true_false", "numeric", "short_text")
# When a graded quiz attempt may show the correct answers (Module.settings["reveal_answers"]).
QUIZ_REVEAL = ("after_pass", "after_last_attempt", "never")
# A quiz without an explicit limit allows this many attempts; 0 (explicit) means unlimited.
DEFAULT_ATTEMPT_LIMIT = 3


class Course(db.Model):
    __tablename__ = "training_courses"
    __table_args__ = (
        Index("ix_training_courses_status_title", "status", "title"),
        Index("ix_training_courses_category", "category"),
        Index("ix_training_courses_level", "level"),
        Index("ix_training_courses_language", "language"),
        Index("ix_training_courses_mandatory", "mandatory"),
        Index("ix_training_courses_is_onboarding", "is_onboarding"),
        Index("ix_training_courses_created_at", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(80), default="General")
    # Lower-case tags joined by commas with leading/trailing commas (",gmp,safety,") so
    # a tag match is one LIKE '%,tag,%'.
    tags: Mapped[str] = mapped_column(String(500), default="")
    level: Mapped[str] = mapped_column(String(20), default="beginner")
    language: Mapped[str] = mapped_column(String(10), default="en")
    estimated_minutes: Mapped[int] = mapped_column(Integer, default=30)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    passing_score: Mapped[int] = mapped_column(Integer, default=80)
    validity_months: Mapped[int | None] = mapped_column(Integer)
    mandatory: Mapped[bool] = mapped_column(Boolean, default=False)
    is_onboarding: Mapped[bool] = mapped_column(Boolean, default=False)
    self_enroll: Mapped[bool] = mapped_column(Boolean, default=True)
    cover_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner = relationship("User")
    cover_file: Mapped[StoredFile | None] = relationship()
    modules: Mapped[list[Module]] = relationship(
        back_populates="course", order_by="Module.position", cascade="all, delete-orphan"
    )

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]


class Module(db.Model):
    __tablename__ = "training_modules"
    __table_args__ = (UniqueConstraint("course_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    estimated_minutes: Mapped[int] = mapped_column(Integer, default=10)
    # Kind-specific knobs (video completion share, quiz attempt/time limits, rubric ...).
    settings: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    course: Mapped[Course] = relationship(back_populates="modules")
    file: Mapped[StoredFile | None] = relationship()
    questions: Mapped[list[QuizQuestion]] = relationship(
        back_populates="module", order_by="QuizQuestion.position", cascade="all, delete-orphan"
    )


class QuizQuestion(db.Model):
    __tablename__ = "quiz_questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("training_modules.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(Text)
    # options: list of choice labels; answer: indexes / number / accepted strings by kind.
    options: Mapped[list] = mapped_column(JSONType, default=list)
    answer: Mapped[dict] = mapped_column(JSONType, default=dict)
    points: Mapped[int] = mapped_column(Integer, default=1)
    explanation: Mapped[str] = mapped_column(Text, default="")
    topic: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, default=1)

    module: Mapped[Module] = relationship(back_populates="questions")


# --- training records: enrollments, progress per module, results, certifications ----------

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


class QuizAttemptGrant(db.Model):
    """One extra attempt a trainer allowed a learner who had used every attempt at a quiz."""

    __tablename__ = "quiz_attempt_grants"
    __table_args__ = (
        Index("ix_quiz_attempt_grants_enrollment_module", "enrollment_id", "module_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("training_enrollments.id"))
    module_id: Mapped[int] = mapped_column(ForeignKey("training_modules.id"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    reason: Mapped[str] = mapped_column(Text, default="")


CERTIFICATION_STATUSES = ("active", "expiring", "expired", "revoked")


class Certification(db.Model):
    """A certificate: issued once per completed enrollment (the unique constraint enforces it)."""

    __tablename__ = "training_certifications"
    __table_args__ = (
        Index("ix_training_certifications_user_id", "user_id"),
        Index("ix_training_certifications_expires_at", "expires_at"),
        Index("ix_training_certifications_approval_status", "approval_status"),
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
    # NULL: no approval needed. A manual certificate back-dated beyond the window is "pending"
    # (not valid) until QA approves it ("approved") or rejects it ("rejected"), e-signed.
    approval_status: Mapped[str | None] = mapped_column(String(20))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    user = relationship("User", foreign_keys=[user_id])
    course = relationship("Course")
    enrollment = relationship("Enrollment")
    file = relationship("StoredFile")
    issued_by = relationship("User", foreign_keys=[issued_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
