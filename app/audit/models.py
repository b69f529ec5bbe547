"""Electronic signatures: who signed what, when, meaning what (21 CFR Part 11 manifestations)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.platform import clock
from app.platform.db import UTCDateTime

# Meaning code -> the words shown in every manifestation of the signature.
SIGNATURE_MEANINGS = {
    "read_understood": "Read and understood",
    "approved": "Approved",
    "trainer_signoff": "Trainer sign-off",
    "reviewed": "Reviewed",
    "issued": "Issued",
}


class ESignature(db.Model):
    """One electronic signature: who, when, what it means, and a hash of what was signed.

    Append-only (PostgreSQL refuses UPDATE/DELETE). A signed record whose content no longer
    hashes to `content_hash` shows as "signature invalid".
    """

    __tablename__ = "e_signatures"
    __table_args__ = (
        Index("ix_e_signatures_entity", "entity", "entity_id"),
        Index("ix_e_signatures_user_id", "user_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    printed_name: Mapped[str] = mapped_column(String(200))
    meaning: Mapped[str] = mapped_column(String(30))
    # The full sentence the signer saw, e.g. "I have read and understood SOP-QA-001 version 3".
    statement: Mapped[str] = mapped_column(Text)
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(60))
    content_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # signed_at in the signer's timezone, as shown to them when they signed.
    local_time: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))

    user = relationship("User")

    @property
    def meaning_label(self) -> str:
        return SIGNATURE_MEANINGS.get(self.meaning, self.meaning)
