"""The API shell's own table: the idempotency keys of POST requests and the answers they got."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.platform.db import JSONType, UTCDateTime, db


class IdempotencyKey(db.Model):
    """One `Idempotency-Key` a credential sent with a POST: the request's fingerprint, and once
    the request has been answered, that answer (status NULL while it is still being served)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("credential", "key"),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Whose key it is: "token:<id>" or "user:<id>" (a browser session); keys never cross these.
    credential: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of method, path, query and body: the same key with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[list | None] = mapped_column(JSONType)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
