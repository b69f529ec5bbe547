"""Instructor-led training: sessions on a calendar, registrations with a waitlist, attendance,
and each person's private calendar feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.platform import clock
from app.platform.db import UTCDateTime

SESSION_STATUSES = ("scheduled", "cancelled", "completed")
SERIES_RULES = ("weekly", "monthly")
REGISTRATION_STATUSES = ("registered", "waitlisted", "cancelled")
ATTENDANCE = ("present", "absent")
RESTRICTION_KINDS = ("site", "department", "job_role", "course")


class SessionSeries(db.Model):
    """A recurring series created in one step; each occurrence is an ordinary session."""

    __tablename__ = "training_session_series"
    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(20))  # weekly / monthly
    interval: Mapped[int] = mapped_column(Integer, default=1)
    occurrences: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class TrainingSession(db.Model):
    """One scheduled class. Times are stored in UTC; `timezone` is where it happens."""

    __tablename__ = "training_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        Index("ix_training_sessions_starts_at", "starts_at"),
        Index("ix_training_sessions_course_starts", "course_id", "starts_at"),
        Index("ix_training_sessions_status_starts", "status", "starts_at"),
        Index("ix_training_sessions_location", "location"),
        Index("ix_training_sessions_series_id", "series_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable across edits (iCalendar UID); SEQUENCE goes up on every change people should see.
    uid: Mapped[str] = mapped_column(String(80), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    title: Mapped[str | None] = mapped_column(String(200))  # defaults to the course title
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    location: Mapped[str | None] = mapped_column(String(200))
    online_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(Integer)
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    notes: Mapped[str] = mapped_column(Text, default="")
    series_id: Mapped[int | None] = mapped_column(ForeignKey("training_session_series.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    course = relationship("Course")
    series = relationship("SessionSeries")
    instructors: Mapped[list[SessionInstructor]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )
    restrictions: Mapped[list[SessionRestriction]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class SessionInstructor(db.Model):
    __tablename__ = "training_session_instructors"
    __table_args__ = (Index("ix_training_session_instructors_user_id", "user_id"),)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)

    user = relationship("User")


class SessionRestriction(db.Model):
    """Who may book a session: one row per allowed site, department or job role, or per
    course that must be completed first. Without rows of a kind, that kind does not restrict;
    several rows of one kind are alternatives (any site listed), the kinds add up (and)."""

    __tablename__ = "training_session_restrictions"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('site', 'department', 'job_role', 'course')", name="restriction_kind"
        ),
        Index("ix_training_session_restrictions_kind_value", "kind", "value"),
    )
    session_id: Mapped[int] = mapped_column(
        ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    # A site's name, or the id (as text) of the department, job role or prerequisite course.
    value: Mapped[str] = mapped_column(String(120), primary_key=True)


class SessionRegistration(db.Model):
    """A seat or a waitlist place. One row per person and session, whatever happens to it."""

    __tablename__ = "training_session_registrations"
    __table_args__ = (
        UniqueConstraint("session_id", "user_id"),
        Index("ix_training_session_registrations_session_status", "session_id", "status"),
        Index("ix_training_session_registrations_user_status", "user_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="registered")
    # Order on the waitlist (lower first); kept after promotion for the record.
    waitlist_position: Mapped[int | None] = mapped_column(Integer)
    attendance: Mapped[str | None] = mapped_column(String(20))  # present / absent
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enrollment_id: Mapped[int | None] = mapped_column(ForeignKey("training_enrollments.id"))

    session = relationship("TrainingSession")
    user = relationship("User", foreign_keys=[user_id])


class CalendarFeed(db.Model):
    """A secret per-person iCalendar subscription URL; revoking it ends the old URL."""

    __tablename__ = "calendar_feeds"
    __table_args__ = (Index("ix_calendar_feeds_user_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
