"""Segregation of duties on controlled-document versions: the author (who uploaded a version),
the reviewer (who classified its change) and the approver (who made it effective) must be
different people, as far as the document's type requires.

Each type has a default (an SOP keeps all three apart); QA can change a type's rule, which is
audited like any other change. The services of app.gxp.versions ask `check_step` before they
sign anything; it applies the platform's one rule (app.people.sod.require_distinct) to each
separation the type requires, so a refused step changes nothing and costs no password attempt.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.gxp.models import (
    DEFAULT_DOCUMENT_TYPE,
    DEFAULT_SEPARATIONS,
    DOCUMENT_TYPES,
    SEPARATIONS,
    ControlledDocument,
    DocumentTypeRule,
    DocumentVersion,
)
from app.people.models import User
from app.people.permissions import can
from app.people.sod import SelfApproval, require_distinct
from app.platform import clock
from app.platform.audit import record_audit
from app.platform.errors import Forbidden, Invalid

# Each separation as the rule page and the refusals say it.
SEPARATION_LABELS = {
    "author_reviewer": "The author may not review",
    "author_approver": "The author may not approve",
    "reviewer_approver": "The reviewer may not approve",
}


@dataclass(frozen=True)
class TypeRule:
    """A document type and the steps it keeps apart."""

    document_type: str
    name: str
    separations: frozenset[str]
    customised: bool

    def requires(self, separation: str) -> bool:
        return separation in self.separations

    @property
    def summary(self) -> str:
        if self.separations == frozenset(SEPARATIONS):
            return "Author, reviewer and approver are three different people."
        if not self.separations:
            return "One person may author, review and approve."
        return "; ".join(SEPARATION_LABELS[s] for s in SEPARATIONS if s in self.separations) + "."


def type_name(document_type: str) -> str:
    return DOCUMENT_TYPES.get(document_type, document_type)


def _from_row(document_type: str, row: DocumentTypeRule | None) -> TypeRule:
    if row is None:
        separations = DEFAULT_SEPARATIONS.get(document_type, frozenset(SEPARATIONS))
    else:
        separations = frozenset(s for s in SEPARATIONS if getattr(row, f"separate_{s}"))
    return TypeRule(document_type, type_name(document_type), separations, row is not None)


def type_rule(document_type: str | None) -> TypeRule:
    """The segregation rule of one document type (its default while QA has not set one)."""
    code = document_type or DEFAULT_DOCUMENT_TYPE
    return _from_row(code, db.session.get(DocumentTypeRule, code))


def type_rules() -> list[TypeRule]:
    """Every document type's rule, in the order of DOCUMENT_TYPES (one query)."""
    rows = {r.document_type: r for r in db.session.scalars(select(DocumentTypeRule))}
    return [_from_row(code, rows.get(code)) for code in DOCUMENT_TYPES]


def set_type_rule(document_type: str, separations, actor: User) -> TypeRule:
    """Set which steps a document type keeps apart (audited with the reason).

    Raises Forbidden (not QA/admin), Invalid (unknown type or separation).
    """
    if not can(actor, "document.manage"):
        raise Forbidden("Only QA and admins set the rules of document types.")
    if document_type not in DOCUMENT_TYPES:
        raise Invalid(f"No document type {document_type!r}.")
    wanted = set(separations or [])
    if unknown := wanted - set(SEPARATIONS):
        raise Invalid(f"Unknown separation: {', '.join(sorted(unknown))}.")
    before = type_rule(document_type)
    if before.separations == frozenset(wanted) and before.customised:
        return before
    row = db.session.get(DocumentTypeRule, document_type) or DocumentTypeRule(
        document_type=document_type
    )
    for s in SEPARATIONS:
        setattr(row, f"separate_{s}", s in wanted)
    row.updated_by_id, row.updated_at = actor.id, clock.now()
    db.session.add(row)
    record_audit(
        "update",
        "document_type_rule",
        document_type,
        before={f"separate_{s}": before.requires(s) for s in SEPARATIONS},
        after={f"separate_{s}": s in wanted for s in SEPARATIONS},
        actor=actor,
    )
    db.session.commit()
    return _from_row(document_type, row)


def _separations(
    doc: ControlledDocument, version: DocumentVersion, step: str
) -> list[tuple[int | None, str]]:
    """(who may not do `step`, the refusal) for each separation the type's rule requires."""
    rule = type_rule(doc.document_type)
    what = f"{doc.number} version {version.version}"
    why = f"{rule.name} rule: {rule.summary}"
    out: list[tuple[int | None, str]] = []
    if step == "review":
        if rule.requires("author_reviewer"):
            refusal = f"You uploaded {what}; another person must review it. {why}"
            out.append((version.created_by_id, refusal))
        return out
    if rule.requires("author_approver"):
        out.append(
            (version.created_by_id, f"You uploaded {what}; another person must approve it. {why}")
        )
    if rule.requires("reviewer_approver"):
        refusal = f"You reviewed {what}; another person must approve it. {why}"
        out.append((version.classified_by_id, refusal))
    return out


def check_step(doc: ControlledDocument, version: DocumentVersion, step: str, actor: User) -> None:
    """Refuse a step ("review" or "approve") the document type's segregation of duties forbids,
    through the platform's one rule. Raises SelfApproval."""
    for performer_id, refusal in _separations(doc, version, step):
        require_distinct(performer_id, actor, refusal)


def step_refusal(
    doc: ControlledDocument, version: DocumentVersion, step: str, actor: User
) -> str | None:
    """Why `actor` may not do `step` on this version under its type's rule, or None when they
    may."""
    try:
        check_step(doc, version, step, actor)
    except SelfApproval as exc:
        return exc.detail
    return None
