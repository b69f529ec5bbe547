"""Read-and-understand in the course player: the SOP panel shows the controlled document
version a learner must read; signing it ("read and understood") completes the module."""

from __future__ import annotations

from dataclasses import dataclass

from app.audit.signatures import Manifestation, manifestations_for
from app.extensions import db
from app.gxp import documents
from app.gxp.models import ControlledDocument, DocumentVersion
from app.learning import enrollments, module_kinds
from app.learning.player import PlayerView, own_module
from app.people.models import User
from app.platform.audit import record_audit, snapshot
from app.platform.errors import Conflict, Invalid


@dataclass
class SopPanel:
    """The controlled document version a learner reads, and their signature once given."""

    document: ControlledDocument | None
    version: DocumentVersion | None
    signatures: list[Manifestation]

    @property
    def statement(self) -> str:
        return documents.read_statement(self.version) if self.version else ""

    @property
    def is_pdf(self) -> bool:
        stored = self.version.file if self.version else None
        return bool(stored and stored.content_type.startswith("application/pdf"))


def sop_panel(view: PlayerView) -> SopPanel:
    """What the SOP panel shows for this enrollment."""
    version = documents.sop_version(view.enrollment)
    doc = version.document if version else documents.document_for_course(view.course.id)
    sigs = manifestations_for(documents.READ_ENTITY, view.enrollment.id)
    return SopPanel(doc, version, sigs)


def sign_sop(enrollment_id: int, module_id: int, user: User, password: str | None):
    """Complete an SOP module with the learner's "read and understood" e-signature.

    A wrong password completes nothing and counts toward the sign-in lockout. Raises NotFound,
    Forbidden, Invalid (not an SOP module, password), RateLimited, Conflict (closed, signed
    already, no effective version).
    """
    module = own_module(enrollment_id, module_id, user)
    if module.kind != "sop":
        raise Invalid("This module completes another way.", {"module_id": ["Not an SOP."]})
    enrollment = enrollments.get_enrollment(enrollment_id)
    if enrollment.status not in enrollments.OPEN_STATUSES:
        raise Conflict(f"This enrollment is {enrollment.status}; nothing to sign.")
    row = documents.progress_of(enrollment.id, module.id)
    if row is not None and row.status == "completed":
        raise Conflict("You have signed this SOP already.")
    version = documents.sop_version(enrollment)
    if version is None or version.status != "effective":
        raise Conflict("This SOP has no effective version to read yet; tell QA.")
    before = snapshot(row, enrollments.PROGRESS_AUDIT) if row is not None else None
    documents.sign_read_and_understood(enrollment, version, user, password)
    enrollments.complete_module(enrollment.id, module.id, actor=user)  # audits the start
    db.session.flush()
    row = documents.progress_of(enrollment.id, module.id)
    record_audit(
        "update" if before else "create",
        "progress",
        row.id,
        before=before,
        after=snapshot(row, enrollments.PROGRESS_AUDIT),
        reason=documents.read_statement(version),
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
