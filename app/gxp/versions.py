"""Versions of controlled documents: upload of a draft, the version page with its metadata and
text diff, QA's signed review (classification: editorial or significant) and signed approval
that makes a version effective (the previous effective one becomes superseded; a version that
trains queues the retraining job). What QA's two signatures cover is here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.audit.signatures import Manifestation, sign, signed_content
from app.extensions import db
from app.gxp.document_text import TextDiff, check_document_upload, diff_text, extract_text
from app.gxp.documents import (
    APPROVAL_ENTITY,
    REVIEW_ENTITY,
    get_document,
    user_names,
    version_signatures,
)
from app.gxp.models import ControlledDocument, DocumentVersion
from app.gxp.retraining import trains
from app.gxp.segregation import TypeRule, check_step, step_refusal, type_rule
from app.people.models import User
from app.people.permissions import can
from app.platform import clock, files
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Forbidden, Invalid, NotFound
from app.platform.inputs import as_id, to_choice, to_date, to_text

V = DocumentVersion
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
MAX_EFFECTIVE_AHEAD_DAYS = 365
VERSION_FIELDS = [
    "document_id",
    "version",
    "status",
    "effective_date",
    "file_id",
    "checksum",
    "change_class",
    "change_reason",
    "change_note",
    "classified_by_id",
    "classified_at",
    "effective_by_id",
    "made_effective_at",
    "superseded_at",
]


# --- signed content -------------------------------------------------------------------------


def review_content(version: DocumentVersion, change_class, change_reason, change_note) -> dict:
    """What QA's "reviewed" signature covers: the file and its classification."""
    return {
        "number": version.document.number,
        "version": version.version,
        "checksum": version.checksum,
        "change_class": change_class,
        "change_reason": change_reason,
        "change_note": change_note,
    }


def approval_content(version: DocumentVersion, effective_date: date | None) -> dict:
    """What QA's "approved" signature covers; status and superseded_at change later, so not."""
    return {
        **review_content(version, version.change_class, version.change_reason, version.change_note),
        "effective_date": effective_date,
    }


def _version_by_entity_id(entity_id: str) -> DocumentVersion | None:
    return db.session.get(V, as_id(entity_id)) if as_id(entity_id) else None


@signed_content(REVIEW_ENTITY)
def _signed_review(entity_id: str) -> dict | None:
    v = _version_by_entity_id(entity_id)
    if v is None:
        return None
    return review_content(v, v.change_class, v.change_reason, v.change_note)


@signed_content(APPROVAL_ENTITY)
def _signed_approval(entity_id: str) -> dict | None:
    v = _version_by_entity_id(entity_id)
    return approval_content(v, v.effective_date) if v is not None else None


def review_statement(version: DocumentVersion, previous: DocumentVersion | None) -> str:
    since = f" against version {previous.version}" if previous else ""
    return (
        f"I have reviewed the changes of {version.document.number} version {version.version}"
        f"{since} and classify them as shown."
    )


def approval_statement(version: DocumentVersion) -> str:
    return f"I approve {version.document.number} version {version.version} to become effective."


# --- versions -------------------------------------------------------------------------------


def get_version(document_id: int, version_id: int) -> DocumentVersion:
    """One version of one document. Raises NotFound."""
    version = db.session.scalar(
        select(V)
        .where(V.id == version_id, V.document_id == document_id)
        .options(joinedload(V.file), joinedload(V.document))
    )
    if version is None:
        raise NotFound(f"Version {version_id} of document {document_id} does not exist.")
    return version


def suggest_next_version(document_id: int) -> str:
    """The next label after the latest one: 1 -> 2, 1.0 -> 2.0, nothing -> 1."""
    latest = db.session.scalar(
        select(V.version).where(V.document_id == document_id).order_by(V.id.desc()).limit(1)
    )
    if latest is None:
        return "1"
    m = re.match(r"^(\d+)(\.\d+)?$", latest)
    if not m:
        return ""
    return f"{int(m.group(1)) + 1}{'.0' if m.group(2) else ''}"


def version_snapshot(version: DocumentVersion) -> dict[str, Any]:
    out = snapshot(version, VERSION_FIELDS)
    out["text_chars"] = len(version.text or "")
    return out


def add_version(document_id: int, data: dict, upload, actor: User) -> DocumentVersion:
    """Upload a new draft version: file checked, stored, checksummed, its text extracted.

    Raises NotFound, Forbidden, Invalid (label, file; a file identical to another version).
    """
    if not can(actor, "document.manage"):
        raise Forbidden("Only QA and admins upload document versions.")
    doc = get_document(document_id)
    errors: dict[str, list[str]] = {}
    label = str(data.get("version") or "").strip()
    if not _VERSION.match(label):
        errors["version"] = ["Required: letters, digits, '.', '_' or '-', at most 20."]
    elif db.session.scalar(select(V.id).where(V.document_id == doc.id, V.version == label)):
        errors["version"] = [f"Version {label} exists already."]
    checked = None
    try:
        checked = check_document_upload(upload)
    except Invalid as exc:
        errors["file"] = exc.errors.get("file", [exc.detail])
    if checked is not None:
        same = db.session.scalar(
            select(V.version).where(V.document_id == doc.id, V.checksum == checked.checksum)
        )
        if same is not None:
            errors["file"] = [f"This file is identical to version {same}."]
    if errors:
        raise Invalid("Some version fields are not valid.", errors)
    stored = files.save_checked_upload(checked, actor)
    version = DocumentVersion(
        document_id=doc.id,
        version=label,
        status="draft",
        file=stored,
        checksum=checked.checksum,
        text=extract_text(checked.data, checked.content_type),
        created_by_id=actor.id,
    )
    db.session.add(version)
    try:
        db.session.flush()
    except IntegrityError as exc:  # two uploads of the same label raced
        db.session.rollback()
        raise Invalid("Version exists.", {"version": [f"Version {label} exists already."]}) from exc
    record_audit(
        "create",
        "document_version",
        version.id,
        after=version_snapshot(read_back(version)),
        actor=actor,
    )
    db.session.commit()
    return get_version(doc.id, version.id)


def previous_version(version: DocumentVersion) -> DocumentVersion | None:
    """The version uploaded just before this one (for the metadata diff)."""
    return db.session.scalar(
        select(V)
        .where(V.document_id == version.document_id, V.id < version.id)
        .options(joinedload(V.file))
        .order_by(V.id.desc())
        .limit(1)
    )


def compared_version(version: DocumentVersion) -> DocumentVersion | None:
    """The previous effective version (the text diff's left side); None for a first version."""
    return db.session.scalar(
        select(V)
        .where(
            V.document_id == version.document_id,
            V.id < version.id,
            V.made_effective_at.is_not(None),
        )
        .order_by(V.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class MetaRow:
    label: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _meta(version: DocumentVersion | None) -> dict[str, str]:
    if version is None:
        return {}
    stored = version.file
    text = version.text or ""
    return {
        "Version": version.version,
        "File": stored.filename if stored else "",
        "Type": stored.content_type if stored else "",
        "Size": files.human_size(stored.size) if stored else "",
        "SHA-256": version.checksum or "",
        "Text": f"{len(text.splitlines())} lines, {len(text.split())} words",
    }


def metadata_diff(previous: DocumentVersion | None, version: DocumentVersion) -> list[MetaRow]:
    before, after = _meta(previous), _meta(version)
    return [MetaRow(k, before.get(k, "—"), after[k]) for k in after]


@dataclass
class VersionView:
    document: ControlledDocument
    version: DocumentVersion
    previous: DocumentVersion | None
    compared: DocumentVersion | None
    metadata: list[MetaRow]
    diff: TextDiff | None
    names: dict[int, str]
    signatures: list[Manifestation]
    current: DocumentVersion | None
    download_url: str | None = None
    review_statement: str = ""
    approval_statement: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    rule: TypeRule | None = None
    # Why the viewer may not review / approve this version (segregation of duties), or None.
    review_refusal: str | None = None
    approval_refusal: str | None = None

    @property
    def is_first(self) -> bool:
        return self.compared is None

    @property
    def can_classify(self) -> bool:
        v = self.version
        return v.status == "draft" and not self.is_first and v.change_class is None

    @property
    def blocked_reason(self) -> str | None:
        """Why this version cannot be made effective now (None: it can)."""
        v = self.version
        if v.status != "draft":
            return f"This version is {v.status}."
        if self.current is not None and self.current.id > v.id:
            return f"A newer version ({self.current.version}) is already effective."
        if not self.is_first and v.change_class is None:
            return "Classify the change (editorial or significant) before it can become effective."
        return None


def version_view(document_id: int, version_id: int, viewer: User | None = None) -> VersionView:
    """The version page: metadata and its diff, the text diff, signatures, and what the
    segregation of duties forbids `viewer` to do here. Raises NotFound."""
    version = get_version(document_id, version_id)
    doc = get_document(document_id)
    previous = previous_version(version)
    compared = compared_version(version)
    current = db.session.scalar(select(V).where(V.document_id == doc.id, V.status == "effective"))
    names = user_names([version.created_by_id, version.classified_by_id, version.effective_by_id])
    return VersionView(
        document=doc,
        version=version,
        previous=previous,
        compared=compared,
        metadata=metadata_diff(previous, version),
        diff=diff_text(compared.text or "", version.text or "") if compared else None,
        names=names,
        signatures=version_signatures([version.id])[version.id],
        current=current,
        download_url=files.download_url(version.file) if version.file else None,
        review_statement=review_statement(version, compared),
        approval_statement=approval_statement(version),
        rule=type_rule(doc.document_type),
        review_refusal=step_refusal(doc, version, "review", viewer) if viewer else None,
        approval_refusal=step_refusal(doc, version, "approve", viewer) if viewer else None,
    )


def _change_version(
    version: DocumentVersion, action: str, actor: User, reason: str | None, **changes
) -> None:
    """Set `changes` on a version, with its audit row (the caller commits)."""
    before = version_snapshot(version)
    for name, value in changes.items():
        setattr(version, name, value)
    record_audit(
        action,
        "document_version",
        version.id,
        before=before,
        after=version_snapshot(read_back(version)),
        reason=reason,
        actor=actor,
    )


def _approver_version(document_id: int, version_id: int, actor: User) -> DocumentVersion:
    if not can(actor, "document.approve"):
        raise Forbidden("Only QA reviews and approves document versions.")
    return get_version(document_id, version_id)


def classify_version(
    document_id: int, version_id: int, data: dict, password: str | None, actor: User
) -> DocumentVersion:
    """QA classifies a draft's change as editorial (reason required) or significant (an
    optional "what changed" note), signed "reviewed".

    Raises NotFound, Forbidden (not QA; SelfApproval: the author reviewing where the document
    type forbids it), Conflict (not a draft, a first version, classified already), Invalid
    (fields or password), RateLimited (must wait).
    """
    version = _approver_version(document_id, version_id, actor)
    if version.status != "draft":
        raise Conflict(
            f"Version {version.version} is {version.status}; only drafts are classified."
        )
    compared = compared_version(version)
    if compared is None:
        raise Conflict("A first version always trains; it needs no classification.")
    if version.change_class is not None:
        raise Conflict(f"Version {version.version} is classified already ({version.change_class}).")
    check_step(version.document, version, "review", actor)
    errors: dict[str, list[str]] = {}
    change_class = to_choice(
        errors, "change_class", data.get("change_class"), ("editorial", "significant")
    )
    reason = to_text(
        errors,
        "change_reason",
        data.get("change_reason"),
        2000,
        required=change_class == "editorial",
    )
    if errors.get("change_reason") == ["Required."]:
        errors["change_reason"] = ["Required for an editorial change: why nobody needs retraining."]
    note = to_text(errors, "change_note", data.get("change_note"), 1000)
    if change_class == "editorial" and note:
        errors["change_note"] = ["Only a significant change carries a note for the learners."]
    if errors:
        raise Invalid("Some classification fields are not valid.", errors)
    # Sign before changing anything: a wrong password commits only the failed attempt.
    sign(
        signer=actor,
        password=password,
        meaning="reviewed",
        entity=REVIEW_ENTITY,
        entity_id=version.id,
        statement=review_statement(version, compared),
        content=review_content(version, change_class, reason, note),
        reason=reason,
    )
    _change_version(
        version,
        "classify",
        actor,
        reason or f"{change_class} change",
        change_class=change_class,
        change_reason=reason,
        change_note=note,
        classified_by_id=actor.id,
        classified_at=clock.now(),
    )
    db.session.commit()
    return version


def make_effective(
    document_id: int, version_id: int, data: dict, password: str | None, actor: User
) -> DocumentVersion:
    """QA makes a draft effective, signed "approved"; the effective version before it becomes
    superseded. A version that trains (the first, or significant) queues the training job.

    Raises NotFound, Forbidden (not QA; SelfApproval: the author or reviewer approving where
    the document type forbids it), Conflict (not a draft, not classified, a newer one
    effective), Invalid (date or password), RateLimited (must wait).
    """
    version = _approver_version(document_id, version_id, actor)
    current = db.session.scalar(
        select(V).where(V.document_id == version.document_id, V.status == "effective")
    )
    compared = compared_version(version)
    if version.status != "draft":
        raise Conflict(f"Version {version.version} is {version.status}.")
    if current is not None and current.id > version.id:
        raise Conflict(f"A newer version ({current.version}) is already effective.")
    if compared is not None and version.change_class is None:
        raise Conflict("Classify the change (editorial or significant) first.")
    check_step(version.document, version, "approve", actor)
    errors: dict[str, list[str]] = {}
    today = clock.today()
    effective = to_date(errors, "effective_date", data.get("effective_date"), required=True)
    if effective is not None and effective < today:
        errors["effective_date"] = ["Not in the past: an approval cannot be backdated."]
    elif effective is not None and effective > today + timedelta(days=MAX_EFFECTIVE_AHEAD_DAYS):
        errors["effective_date"] = ["At most a year ahead."]
    if errors:
        raise Invalid("The effective date is not valid.", errors)
    sign(
        signer=actor,
        password=password,
        meaning="approved",
        entity=APPROVAL_ENTITY,
        entity_id=version.id,
        statement=approval_statement(version),
        content=approval_content(version, effective),
    )
    now = clock.now()
    if current is not None:
        _change_version(
            current,
            "supersede",
            actor,
            f"superseded by version {version.version}",
            status="superseded",
            superseded_at=now,
        )
    _change_version(
        version,
        "make_effective",
        actor,
        None,
        status="effective",
        effective_date=effective,
        effective_by_id=actor.id,
        made_effective_at=now,
    )
    db.session.commit()
    if trains(version):
        from app.platform.jobs import enqueue

        enqueue("documents.assign_training", version.id, queue="compliance")
    return version
