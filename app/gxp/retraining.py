"""Read-and-understand retraining: who must be trained on which version of a controlled
document, and the set-based assignment of that training.

Versions become effective in upload order, so the latest version that trains (the first one,
or a significant one) is the "training baseline": an enrollment for it or any later version
counts as trained on the current version. The job documents.assign_training enrols every
affected person in a new effective version that trains and closes open training on the
versions it superseded; the compliance.engine_ran handler and the job documents.assign_current
give people newly in a document's audience its current version. All of it is a few set-based
statements, idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import (
    Date,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.orm import aliased

from app.compliance.events import engine_ran
from app.extensions import db
from app.gxp.models import ControlledDocument, DocumentAudience, DocumentVersion
from app.learning.enrollments import next_cycle_sql
from app.learning.models import Enrollment
from app.people.models import User
from app.platform import clock
from app.platform.audit import actor_columns, insert_audit_rows, record_audit_for_inserted
from app.platform.sql import add_days, upsert

V = DocumentVersion
OPEN_ENROLLMENT = ("assigned", "in_progress")
ENROLLMENT_AUDIT = [
    "user_id",
    "course_id",
    "cycle",
    "source",
    "due_date",
    "status",
    "document_version_id",
]


# --- who is affected, who is trained --------------------------------------------------------


def trains(version: DocumentVersion) -> bool:
    """A first version always trains; a later one only when classified significant."""
    return version.change_class in (None, "significant")


def audience_users(document_ids=None, user_ids=None):
    """(user_id, document_id) for every active person a document applies to, without repeats
    (someone in an affected role and an affected department counts once)."""
    A = DocumentAudience
    parts = []
    for scope in (A.job_role_id == User.job_role_id, A.department_id == User.department_id):
        q = (
            select(User.id.label("user_id"), A.document_id.label("document_id"))
            .join(A, scope)
            .where(User.active.is_(True), User.kind == "person")
        )
        if document_ids is not None:
            q = q.where(A.document_id.in_(list(document_ids)))
        if user_ids is not None:
            q = q.where(User.id.in_(list(user_ids)))
        parts.append(q)
    return union(*parts)


def baselines(document_ids=None):
    """(document_id, baseline_id): the latest version ever made effective that trains."""
    q = (
        select(V.document_id.label("document_id"), func.max(V.id).label("baseline_id"))
        .where(
            V.made_effective_at.is_not(None),
            or_(V.change_class.is_(None), V.change_class == "significant"),
        )
        .group_by(V.document_id)
    )
    if document_ids is not None:
        q = q.where(V.document_id.in_(list(document_ids)))
    return q


def trained_on_current(au, bl):
    """EXISTS: the person completed the baseline version or a later one of the document."""
    done = aliased(V, name="done_version")
    return (
        select(literal(1))
        .select_from(Enrollment)
        .join(done, done.id == Enrollment.document_version_id)
        .where(
            Enrollment.user_id == au.c.user_id,
            Enrollment.status == "completed",
            done.document_id == au.c.document_id,
            done.id >= bl.c.baseline_id,
        )
        .exists()
    )


# --- read-and-understand training -----------------------------------------------------------


def assign_missing(now, on: date, *, user_ids=None, document_ids=None) -> int:
    """Enrol every affected person not yet on the baseline (or a later) version in the current
    effective version, as one INSERT ... SELECT; returns how many.

    Due N days after the effective date, or after `on` when that is later (people who join
    an audience get the full N days). The NOT EXISTS and the unique (person, version) index
    make it idempotent.
    """
    D, E = ControlledDocument, Enrollment
    au = audience_users(document_ids, user_ids).subquery("au")
    bl = baselines(document_ids).subquery("bl")
    cur = aliased(V, name="cur")
    done = aliased(V, name="done_version")
    has_one = (
        select(literal(1))
        .select_from(E)
        .join(done, done.id == E.document_version_id)
        .where(
            E.user_id == au.c.user_id,
            done.document_id == au.c.document_id,
            done.id >= bl.c.baseline_id,
        )
        .exists()
    )
    start = case((cur.effective_date > on, cur.effective_date), else_=literal(on, type_=Date))
    candidates = (
        select(
            au.c.user_id,
            D.course_id,
            next_cycle_sql(au.c.user_id, D.course_id),
            literal("document"),
            add_days(start, D.training_due_days),
            literal("assigned"),
            literal(now, type_=E.created_at.type),
            cur.id,
        )
        .select_from(au)
        .join(D, D.id == au.c.document_id)
        .join(cur, and_(cur.document_id == D.id, cur.status == "effective"))
        .join(bl, bl.c.document_id == D.id)
        .where(D.course_id.is_not(None), D.obsolete_at.is_(None), ~has_one)
    )
    cols = [
        "user_id",
        "course_id",
        "cycle",
        "source",
        "due_date",
        "status",
        "created_at",
        "document_version_id",
    ]
    rows = db.session.execute(
        upsert(E).from_select(cols, candidates).on_conflict_do_nothing().returning(E.id)
    ).all()
    return len(rows)


def _close_superseded(doc: ControlledDocument, version: DocumentVersion, now) -> int:
    """Expire open enrollments for older versions (completed ones stay in the record), with
    one audit row each, set-based."""
    E = Enrollment
    older = select(V.id).where(V.document_id == doc.id, V.id < version.id)
    where = (
        E.course_id == doc.course_id,
        E.document_version_id.in_(older),
        E.status.in_(OPEN_ENROLLMENT),
    )
    actor_id, label = actor_columns(None)
    reason = f"superseded by version {version.version}"
    found = db.session.execute(select(E.id, E.status, E.document_version_id).where(*where)).all()
    insert_audit_rows(
        {
            "at": now,
            "actor_id": actor_id,
            "actor_label": label,
            "action": "update",
            "entity": "enrollment",
            "entity_id": str(row.id),
            "before": {"status": row.status, "document_version_id": row.document_version_id},
            "after": {"status": "expired", "document_version_id": row.document_version_id},
            "reason": reason,
        }
        for row in found
    )
    closed = db.session.execute(
        update(E).where(*where).values(status="expired"),
        execution_options={"synchronize_session": False},
    ).rowcount
    if closed:
        from flask import g

        g.cadre_audit_written = True  # sealed into the audit hash chain when the job ends
    return closed


@dataclass(frozen=True)
class AssignResult:
    assigned: int = 0
    closed: int = 0


def assign_training(version_id: int) -> AssignResult:
    """Assign read-and-understand training on an effective version that trains, and close open
    training on the versions it superseded. Idempotent; a version no longer effective (a newer
    one took over before the job ran) or editorial assigns nothing."""
    version = db.session.get(V, version_id)
    if version is None or version.status != "effective" or not trains(version):
        return AssignResult()
    doc = version.document
    if doc.course_id is None or doc.obsolete_at is not None:
        return AssignResult()
    now = clock.now()
    floor = db.session.scalar(select(func.max(Enrollment.id))) or 0
    closed = _close_superseded(doc, version, now)
    assigned = assign_missing(now, version.effective_date or now.date(), document_ids=[doc.id])
    if assigned:
        reason = literal(f"read and understand {doc.number} version {version.version}")
        record_audit_for_inserted(
            Enrollment, "enrollment", ENROLLMENT_AUDIT, now, floor, reason, None
        )
    db.session.commit()
    return AssignResult(assigned=assigned, closed=closed)


@engine_ran.connect
def assign_after_engine_run(user_ids, requirement_ids) -> dict:
    """compliance.engine_ran: people changed (hire, role change, import) or the nightly run
    gives everyone in scope the current version of each document that applies to them."""
    if requirement_ids is not None:
        return {}
    return {"document_enrollments": assign_current_versions(user_ids)}


def assign_current_versions(user_ids=None, document_ids=None) -> int:
    """Give people who joined an affected role or department (or a widened audience) the
    current effective version of each document; None means everyone / every document.
    Idempotent; returns how many enrollments it made."""
    now = clock.now()
    floor = db.session.scalar(select(func.max(Enrollment.id))) or 0
    assigned = assign_missing(now, now.date(), user_ids=user_ids, document_ids=document_ids)
    if assigned:
        reason = literal("read and understand: current version of a document that applies")
        record_audit_for_inserted(
            Enrollment, "enrollment", ENROLLMENT_AUDIT, now, floor, reason, None
        )
    db.session.commit()
    return assigned
