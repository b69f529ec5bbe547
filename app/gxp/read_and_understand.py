"""Read-and-understand in the course player: the SOP panel shows the controlled document
version a learner must read; signing it ("read and understood") completes the module. What
that signature covers, and which version an enrollment reads, are here too."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.audit.signatures import Manifestation, manifestations_for, sign, signed_content
from app.extensions import db
from app.gxp.documents import READ_ENTITY
from app.gxp.models import ControlledDocument, DocumentVersion
from app.gxp.retraining import OPEN_ENROLLMENT
from app.learning import enrollments, module_kinds
from app.learning.models import Enrollment, Progress
from app.learning.player import PlayerView, own_module
from app.people.models import User
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Invalid
from app.platform.inputs import as_id

V = DocumentVersion


# --- the learner's signature ----------------------------------------------------------------


def read_content(enrollment: Enrollment, version: DocumentVersion) -> dict:
    """What a learner's "read and understood" covers: who, which record, which exact file."""
    return {
        "enrollment_id": enrollment.id,
        "user_id": enrollment.user_id,
        "document": version.document.number,
        "version": version.version,
        "checksum": version.checksum,
    }


@signed_content(READ_ENTITY)
def _signed_read(entity_id: str) -> dict | None:
    enrollment = db.session.get(Enrollment, as_id(entity_id)) if as_id(entity_id) else None
    if enrollment is None or enrollment.document_version_id is None:
        return None
    return read_content(enrollment, db.session.get(V, enrollment.document_version_id))


def read_statement(version: DocumentVersion) -> str:
    return f"I have read and understood {version.document.number} version {version.version}"


# --- the version a learner reads ------------------------------------------------------------


def document_for_course(course_id: int) -> ControlledDocument | None:
    return db.session.scalar(
        select(ControlledDocument).where(ControlledDocument.course_id == course_id)
    )


def sop_version(enrollment: Enrollment) -> DocumentVersion | None:
    """The version an enrollment's learner reads: the effective one while the training is open
    (an editorial successor of the assigned version included), else the version it was for."""
    own = (
        db.session.get(V, enrollment.document_version_id)
        if enrollment.document_version_id
        else None
    )
    if own is not None and enrollment.status not in OPEN_ENROLLMENT:
        return own
    doc = own.document if own is not None else document_for_course(enrollment.course_id)
    if doc is None:
        return own
    current = db.session.scalar(select(V).where(V.document_id == doc.id, V.status == "effective"))
    return current or own


def sign_read_and_understood(
    enrollment: Enrollment, version: DocumentVersion, signer: User, password: str | None
) -> None:
    """Add the learner's "read and understood" signature (the caller commits).

    An enrollment made by hand (no version), or one whose version was since replaced by an
    editorial one, is tied to the version signed (audited). Raises Invalid (password),
    RateLimited, Conflict (the person has another enrollment for that version).
    """
    retarget = enrollment.document_version_id != version.id
    if retarget:
        taken = db.session.scalar(
            select(Enrollment.id).where(
                Enrollment.user_id == enrollment.user_id,
                Enrollment.document_version_id == version.id,
                Enrollment.id != enrollment.id,
            )
        )
        if taken is not None:
            raise Conflict(
                f"You have another assignment for {version.document.number} version "
                f"{version.version}; open it from your training."
            )
    # Sign before changing anything: a wrong password commits only the failed attempt.
    sign(
        signer=signer,
        password=password,
        meaning="read_understood",
        entity=READ_ENTITY,
        entity_id=enrollment.id,
        statement=read_statement(version),
        content=read_content(enrollment, version),
    )
    if retarget:
        record_audit(
            "update",
            "enrollment",
            enrollment.id,
            before={"document_version_id": enrollment.document_version_id},
            after={"document_version_id": version.id},
            reason=f"signed {version.document.number} version {version.version}",
            actor=signer,
        )
        enrollment.document_version_id = version.id


def progress_of(enrollment_id: int, module_id: int) -> Progress | None:
    return db.session.scalar(
        select(Progress).where(
            Progress.enrollment_id == enrollment_id, Progress.module_id == module_id
        )
    )


# --- the SOP panel and module kind ----------------------------------------------------------


@dataclass
class SopPanel:
    """The controlled document version a learner reads, and their signature once given."""

    document: ControlledDocument | None
    version: DocumentVersion | None
    signatures: list[Manifestation]

    @property
    def statement(self) -> str:
        return read_statement(self.version) if self.version else ""

    @property
    def is_pdf(self) -> bool:
        stored = self.version.file if self.version else None
        return bool(stored and stored.content_type.startswith("application/pdf"))


def sop_panel(view: PlayerView) -> SopPanel:
    """What the SOP panel shows for this enrollment."""
    version = sop_version(view.enrollment)
    doc = version.document if version else document_for_course(view.course.id)
    sigs = manifestations_for(READ_ENTITY, view.enrollment.id)
    return SopPanel(doc, version, sigs)


def sign_sop(enrollment_id: int, module_id: int, user: User, password: str | None):
    """Complete an SOP module with the learner's "read and understood" e-signature.

    A wrong password completes nothing and counts toward the sign-in throttle. Raises NotFound,
    Forbidden, Invalid (not an SOP module, password), RateLimited, Conflict (closed, signed
    already, no effective version).
    """
    module = own_module(enrollment_id, module_id, user)
    if module.kind != "sop":
        raise Invalid("This module completes another way.", {"module_id": ["Not an SOP."]})
    enrollment = enrollments.get_enrollment(enrollment_id)
    if enrollment.status not in enrollments.OPEN_STATUSES:
        raise Conflict(f"This enrollment is {enrollment.status}; nothing to sign.")
    row = progress_of(enrollment.id, module.id)
    if row is not None and row.status == "completed":
        raise Conflict("You have signed this SOP already.")
    version = sop_version(enrollment)
    if version is None or version.status != "effective":
        raise Conflict("This SOP has no effective version to read yet; tell QA.")
    before = snapshot(row, enrollments.PROGRESS_AUDIT) if row is not None else None
    sign_read_and_understood(enrollment, version, user, password)
    enrollments.complete_module(enrollment.id, module.id, actor=user)  # audits the start
    db.session.flush()
    row = progress_of(enrollment.id, module.id)
    record_audit(
        "update" if before else "create",
        "progress",
        row.id,
        before=before,
        after=snapshot(read_back(row), enrollments.PROGRESS_AUDIT),
        reason=read_statement(version),
        actor=user,
    )
    db.session.commit()
    enrollments.evaluate_completion(enrollment.id, actor=user)
    return row


def _panel(view: PlayerView) -> dict:
    return {"sop": sop_panel(view)}


module_kinds.register(
    "sop",
    module_kinds.KindBehaviour(
        panel=_panel,
        sign=sign_sop,
        signed_message="Signed: you have read and understood this SOP.",
    ),
)
