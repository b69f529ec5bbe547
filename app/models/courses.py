"""Learning content: courses, their ordered modules and quiz questions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.platform import clock
from app.platform.db import JSONType, UTCDateTime
from app.platform.files import StoredFile

COURSE_STATUSES = ("draft", "published", "retired")
COURSE_LEVELS = ("beginner", "intermediate", "advanced")
MODULE_KINDS = ("text", "video", "document", "quiz", "assignment", "scenario", "sop")
QUESTION_KINDS = ("single", "multiple", "true_false", "numeric", "short_text")


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
