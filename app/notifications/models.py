"""Notifications (in-app and email) and each person's preferences for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.platform import clock
from app.platform.db import JSONType, UTCDateTime

EMAIL_STATES = ("pending", "sent", "failed", "skipped", "digest")


class Notification(db.Model):
    """One message to one person. `dedupe_key` makes each reminder exist once per item and
    threshold however often the sweep runs."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_unread", "user_id", "read_at"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
        Index(
            "ix_notifications_email_pending",
            "id",
            postgresql_where=text("email_state = 'pending'"),
            sqlite_where=text("email_state = 'pending'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))  # due_reminder, overdue, escalation, ...
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))  # the page that resolves it
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_state: Mapped[str] = mapped_column(String(20), default="pending")
    email_attempts: Mapped[int] = mapped_column(Integer, default=0)
    email_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_error: Mapped[str | None] = mapped_column(Text)


class NotificationPreference(db.Model):
    """Email on/off per kind and the daily digest; absent row = defaults (email on, no digest)."""

    __tablename__ = "notification_preferences"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    email_off: Mapped[list] = mapped_column(JSONType, default=list)  # kinds not emailed
    daily_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    unsubscribe_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)
