"""GxP controls: controlled documents, inspection exports, validation reports."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
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
from app.platform.db import JSONType, UTCDateTime

DOCUMENT_VERSION_STATUSES = ("draft", "effective", "superseded", "obsolete")
CHANGE_CLASSES = ("editorial", "significant")
# The kinds of controlled document, and which steps of a version each keeps apart by default:
# the author uploads it, the reviewer classifies its change, the approver makes it effective.
DOCUMENT_TYPES = {
    "sop": "SOP",
    "work_instruction": "Work instruction",
    "policy": "Policy",
    "form": "Form",
}
DEFAULT_DOCUMENT_TYPE = "sop"
SEPARATIONS = ("author_reviewer", "author_approver", "reviewer_approver")
DEFAULT_SEPARATIONS = {
    "sop": frozenset(SEPARATIONS),
    "work_instruction": frozenset(SEPARATIONS),
    "policy": frozenset(SEPARATIONS),
    "form": frozenset({"author_approver"}),
}


class DocumentTypeRule(db.Model):
    """A document type's segregation of duties as QA set it (no row: the type's default), so
    tightening or relaxing it is a recorded decision rather than a code change."""

    __tablename__ = "document_type_rules"
    document_type: Mapped[str] = mapped_column(String(30), primary_key=True)
    separate_author_reviewer: Mapped[bool] = mapped_column(Boolean, default=True)
    separate_author_approver: Mapped[bool] = mapped_column(Boolean, default=True)
    separate_reviewer_approver: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ControlledDocument(db.Model):
    """An SOP (or other controlled document) whose effective version people must have read."""

    __tablename__ = "controlled_documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)  # e.g. SOP-QA-001
    title: Mapped[str] = mapped_column(String(200))
    document_type: Mapped[str] = mapped_column(
        String(30), default=DEFAULT_DOCUMENT_TYPE, server_default=DEFAULT_DOCUMENT_TYPE
    )
    description: Mapped[str] = mapped_column(Text, default="")
    training_due_days: Mapped[int] = mapped_column(Integer, default=14)
    # The read-and-understand course (one `sop` module) that carries the training records.
    course_id: Mapped[int | None] = mapped_column(ForeignKey("training_courses.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    obsolete_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course = relationship("Course")
    owner = relationship("User", foreign_keys=[owner_id])
    audiences: Mapped[list[DocumentAudience]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class DocumentAudience(db.Model):
    """Who is affected by a document: a job role or a department."""

    __tablename__ = "document_audiences"
    __table_args__ = (
        CheckConstraint(
            "(job_role_id IS NOT NULL AND department_id IS NULL)"
            " OR (job_role_id IS NULL AND department_id IS NOT NULL)",
            name="one_scope",
        ),
        UniqueConstraint("document_id", "job_role_id", "department_id"),
        Index("ix_document_audiences_job_role_id", "job_role_id"),
        Index("ix_document_audiences_department_id", "department_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("controlled_documents.id"))
    job_role_id: Mapped[int | None] = mapped_column(ForeignKey("job_roles.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))

    job_role = relationship("JobRole")
    department = relationship("Department")


class DocumentVersion(db.Model):
    __tablename__ = "document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "version"),
        Index("ix_document_versions_document_status", "document_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("controlled_documents.id"))
    version: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    effective_date: Mapped[date | None] = mapped_column(Date)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    checksum: Mapped[str | None] = mapped_column(String(64))
    # Plain text extracted from the file, for the diff against the previous version.
    text: Mapped[str] = mapped_column(Text, default="")
    change_class: Mapped[str | None] = mapped_column(String(20))  # editorial / significant
    change_reason: Mapped[str | None] = mapped_column(Text)
    # "What changed", shown first in the read-and-understand panel.
    change_note: Mapped[str | None] = mapped_column(Text)
    classified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    classified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effective_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    made_effective_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    document = relationship("ControlledDocument")
    file = relationship("StoredFile")


EXPORT_STATUSES = ("queued", "running", "done", "failed")


class InspectionExport(db.Model):
    """A ZIP of training records for an inspector, built by a job with visible progress."""

    __tablename__ = "inspection_exports"
    __table_args__ = (Index("ix_inspection_exports_created_at", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requested_by = relationship("User", foreign_keys=[requested_by_id])
    user = relationship("User", foreign_keys=[user_id])
    department = relationship("Department")
    file = relationship("StoredFile")


class ValidationReport(db.Model):
    """IQ/OQ evidence for one release: requirement -> tests -> last results, as PDF + JSON."""

    __tablename__ = "validation_reports"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40))
    commit: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[dict] = mapped_column(JSONType, default=dict)
    pdf_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    json_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_files.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
