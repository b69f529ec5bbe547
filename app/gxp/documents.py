"""Controlled documents (the EDMS side): SOPs, their versions, QA's signed review and approval,
and read-and-understand training on every version that changes what people do.

A version is uploaded as a draft. A version after the first is classified by QA with an
e-signature ("reviewed"): `editorial` retrains nobody (the reason is kept), `significant`
retrains every affected person. Making a version effective is signed too ("approved"); the
previous effective version becomes superseded. Training is assigned by the job
documents.assign_training in a few set-based statements, idempotently.

Versions become effective in upload order, so the latest version that trains (the first one,
or a significant one) is the "training baseline": an enrollment for it or any later version
counts as trained on the current version.

This module holds the documents themselves: creating and editing them (metadata, audiences,
the read-and-understand course) and reading them (the list, the document page, who is trained
on the current version). Versions and QA's signatures are in app.gxp.versions, the training
assignment in app.gxp.retraining, the learner's signed reading in app.gxp.read_and_understand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from app.audit.signatures import Manifestation, manifestations
from app.extensions import db
from app.gxp.models import (
    DEFAULT_DOCUMENT_TYPE,
    DOCUMENT_TYPES,
    ControlledDocument,
    DocumentAudience,
    DocumentVersion,
)
from app.gxp.retraining import OPEN_ENROLLMENT, audience_users, baselines, trained_on_current
from app.gxp.segregation import TypeRule, type_rule
from app.learning.courses import AUDIT_FIELDS as COURSE_AUDIT_FIELDS
from app.learning.courses import catalog_changed
from app.learning.models import Course, Enrollment, Module
from app.learning.modules import MODULE_FIELDS
from app.people.models import Department, JobRole, User
from app.people.permissions import can
from app.platform import clock
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Forbidden, Invalid, NotFound
from app.platform.inputs import blank, to_choice, to_id_list, to_int, to_text
from app.platform.pagination import Page, clamp, paginate

V = DocumentVersion
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
DOCUMENT_FIELDS = [
    "number",
    "title",
    "document_type",
    "description",
    "training_due_days",
    "owner_id",
    "course_id",
]
# Signature entities: QA's review (classification) and approval (made effective) of a
# version, and a learner's read-and-understood on an enrollment.
REVIEW_ENTITY = "document_version_review"
APPROVAL_ENTITY = "document_version"
READ_ENTITY = "sop_enrollment"


# --- reading documents ----------------------------------------------------------------------


def get_document(document_id: int) -> ControlledDocument:
    """One document with its audiences and owner. Raises NotFound."""
    doc = db.session.scalar(
        select(ControlledDocument)
        .where(ControlledDocument.id == document_id)
        .options(*_document_options())
    )
    if doc is None:
        raise NotFound(f"Document {document_id} does not exist.")
    return doc


def _document_options() -> list:
    aud = selectinload(ControlledDocument.audiences)
    return [
        aud.joinedload(DocumentAudience.job_role),
        aud.joinedload(DocumentAudience.department),
        joinedload(ControlledDocument.owner).lazyload(User.role_grants),
    ]


def audience_names(doc: ControlledDocument) -> tuple[list[str], list[str]]:
    """(job role names, department names) a document applies to, sorted."""
    roles = sorted(a.job_role.name for a in doc.audiences if a.job_role is not None)
    depts = sorted(a.department.name for a in doc.audiences if a.department is not None)
    return roles, depts


@dataclass(frozen=True)
class CurrentVersion:
    id: int
    version: str
    effective_date: date | None


@dataclass
class DocumentRow:
    """One line of the documents list."""

    document: ControlledDocument
    current: CurrentVersion | None
    drafts: int
    trained: int
    affected: int


@dataclass
class DocumentQuery:
    q: str = ""
    page: int = 1
    per_page: int = 20

    @classmethod
    def from_args(cls, args) -> DocumentQuery:
        page, per_page = clamp(args.get("page"), args.get("per_page"))
        return cls(q=(args.get("q") or "").strip()[:100], page=page, per_page=per_page)


def _version_summary(ids: list[int]) -> tuple[dict[int, CurrentVersion], dict[int, int]]:
    """The effective version and the number of drafts per document, in one grouped query."""
    if not ids:
        return {}, {}
    rows = db.session.execute(
        select(
            V.document_id,
            V.status,
            func.count(),
            func.max(V.id),
            func.max(V.version),
            func.max(V.effective_date),
        )
        .where(V.document_id.in_(ids), V.status.in_(("effective", "draft")))
        .group_by(V.document_id, V.status)
    ).all()
    current, drafts = {}, {}
    for doc_id, status, count, vid, label, effective in rows:
        if status == "effective":  # exactly one per document, so max() is that row
            current[doc_id] = CurrentVersion(vid, label, effective)
        else:
            drafts[doc_id] = count
    return current, drafts


def training_counts(ids: list[int]) -> dict[int, tuple[int, int]]:
    """document id -> (trained on the current version, affected people), in one query."""
    if not ids:
        return {}
    au = audience_users(document_ids=ids).subquery("au")
    bl = baselines(ids).subquery("bl")
    trained = case((trained_on_current(au, bl), 1), else_=0)
    rows = db.session.execute(
        select(au.c.document_id, func.sum(trained), func.count())
        .select_from(au)
        .outerjoin(bl, bl.c.document_id == au.c.document_id)
        .group_by(au.c.document_id)
    ).all()
    return {doc_id: (int(done or 0), total) for doc_id, done, total in rows}


def list_documents(query: DocumentQuery) -> Page:
    """A page of documents by number, with current version, drafts and training counts.

    A fixed number of queries whatever the page size (the counts are one grouped query).
    """
    stmt = select(ControlledDocument).options(*_document_options())
    if query.q:
        term = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                ControlledDocument.number.ilike(term, escape="\\"),
                ControlledDocument.title.ilike(term, escape="\\"),
            )
        )
    result = paginate(stmt.order_by(ControlledDocument.number), query.page, query.per_page)
    ids = [d.id for d in result.items]
    current, drafts = _version_summary(ids)
    counts = training_counts(ids)
    result.items = [
        DocumentRow(d, current.get(d.id), drafts.get(d.id, 0), *counts.get(d.id, (0, 0)))
        for d in result.items
    ]
    return result


def document_versions(document_id: int) -> list[DocumentVersion]:
    """Every version of a document, newest first (the file row loaded, not the text)."""
    return list(
        db.session.scalars(
            select(V)
            .where(V.document_id == document_id)
            .options(joinedload(V.file))
            .order_by(V.id.desc())
        )
    )


def user_names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


def version_signatures(version_ids: list[int]) -> dict[int, list[Manifestation]]:
    """QA's review and approval signatures per version, oldest first."""
    out: dict[int, list[Manifestation]] = {vid: [] for vid in version_ids}
    for entity in (REVIEW_ENTITY, APPROVAL_ENTITY):
        for key, sigs in manifestations(entity, version_ids).items():
            out[int(key)].extend(sigs)
    for sigs in out.values():
        sigs.sort(key=lambda s: (s.signed_at, s.id))
    return out


@dataclass
class DocumentView:
    document: ControlledDocument
    versions: list[DocumentVersion]
    names: dict[int, str]
    signatures: dict[int, list[Manifestation]]
    trained: int
    affected: int
    job_roles: list[str]
    departments: list[str]
    rule: TypeRule

    @property
    def current(self) -> DocumentVersion | None:
        return next((v for v in self.versions if v.status == "effective"), None)

    @property
    def drafts(self) -> list[DocumentVersion]:
        return [v for v in self.versions if v.status == "draft"]


def document_view(document_id: int) -> DocumentView:
    """The document page: metadata, audiences, version history with signatures, counts.
    Raises NotFound."""
    doc = get_document(document_id)
    versions = document_versions(doc.id)
    names = user_names(
        [doc.created_by_id]
        + [u for v in versions for u in (v.created_by_id, v.classified_by_id, v.effective_by_id)]
    )
    trained, affected = training_counts([doc.id]).get(doc.id, (0, 0))
    roles, depts = audience_names(doc)
    return DocumentView(
        doc,
        versions,
        names,
        version_signatures([v.id for v in versions]),
        trained,
        affected,
        roles,
        depts,
        type_rule(doc.document_type),
    )


@dataclass
class PersonTraining:
    """One affected person's training on the current version of a document."""

    user: User
    enrollment: Enrollment | None
    version: str | None

    @property
    def status(self) -> str:
        return self.enrollment.status if self.enrollment else "not_assigned"

    @property
    def overdue(self) -> bool:
        e = self.enrollment
        return bool(e and e.status in OPEN_ENROLLMENT and e.due_date and e.due_date < clock.today())


def training_status(document_id: int, page: int = 1, per_page: int = 20) -> Page:
    """A page of affected people (by name) with their enrollment on the current version.

    Two queries per page: the people, then their enrollments for the baseline or later.
    """
    au = audience_users(document_ids=[document_id]).subquery("au")
    people = (
        select(User)
        .where(User.id.in_(select(au.c.user_id)))
        .options(lazyload(User.role_grants))
        .order_by(User.name, User.id)
    )
    result = paginate(people, page, per_page)
    ids = [u.id for u in result.items]
    latest: dict[int, tuple[Enrollment, str]] = {}
    if ids:
        bl = baselines([document_id]).subquery("bl")
        rows = db.session.execute(
            select(Enrollment, V.version)
            .join(V, V.id == Enrollment.document_version_id)
            .join(bl, bl.c.document_id == V.document_id)
            .where(
                Enrollment.user_id.in_(ids), V.document_id == document_id, V.id >= bl.c.baseline_id
            )
            .order_by(Enrollment.id)
        ).all()
        latest = {e.user_id: (e, label) for e, label in rows}
    result.items = [PersonTraining(u, *(latest.get(u.id) or (None, None))) for u in result.items]
    return result


# --- creating and editing documents ---------------------------------------------------------


def _owner(errors: dict, data: dict) -> int | None:
    from app.people.users import find_user_by_email

    email = data.get("owner_email")
    if not blank(data.get("owner_id")):
        owner_id = to_int(errors, "owner_email", data.get("owner_id"), 1, 2_147_483_647)
        user = db.session.get(User, owner_id) if owner_id else None
    elif isinstance(email, str) and email.strip():
        user = find_user_by_email(email)
    else:
        errors["owner_email"] = ["Required: the owner's email."]
        return None
    if "owner_email" in errors:
        return None
    if user is None or not user.active:
        errors["owner_email"] = ["No active person with this email."]
        return None
    return user.id


def _existing_ids(errors: dict, name: str, model, ids: list[int]) -> list[int]:
    if not ids:
        return []
    found = set(db.session.scalars(select(model.id).where(model.id.in_(ids))))
    if missing := [i for i in ids if i not in found]:
        errors[name] = [f"No such {model.__name__.lower()}: {', '.join(map(str, missing))}."]
    return ids


def validate_document(data: dict, creating: bool) -> dict[str, Any]:
    """Clean fields of a document; the number only on creation (it names signed records).
    Raises Invalid."""
    if not isinstance(data, dict):
        raise Invalid("Expected an object of document fields.")
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    if creating:
        number = str(data.get("number") or "").strip().upper()
        if not _NUMBER.match(number):
            errors["number"] = ["Required: letters, digits, '.', '_' or '-', at most 40."]
        elif db.session.scalar(
            select(ControlledDocument.id).where(func.upper(ControlledDocument.number) == number)
        ):
            errors["number"] = ["Another document has this number."]
        elif db.session.scalar(select(Course.id).where(func.upper(Course.code) == number)):
            errors["number"] = [f"A course already uses the code {number}; pick another number."]
        out["number"] = number
    out["title"] = to_text(errors, "title", data.get("title"), 200, required=True)
    kind = data.get("document_type")
    kinds = tuple(DOCUMENT_TYPES)
    out["document_type"] = to_choice(errors, "document_type", kind, kinds, required=False)
    out["document_type"] = out["document_type"] or DEFAULT_DOCUMENT_TYPE
    out["description"] = to_text(errors, "description", data.get("description"), 5000) or ""
    out["training_due_days"] = to_int(
        errors, "training_due_days", data.get("training_due_days"), 1, 365, required=True
    )
    out["owner_id"] = _owner(errors, data)
    roles = to_id_list(errors, "job_role_ids", data.get("job_role_ids"))
    depts = to_id_list(errors, "department_ids", data.get("department_ids"))
    out["job_role_ids"] = _existing_ids(errors, "job_role_ids", JobRole, roles)
    out["department_ids"] = _existing_ids(errors, "department_ids", Department, depts)
    if not roles and not depts and not {"job_role_ids", "department_ids"} & errors.keys():
        errors["job_role_ids"] = ["Pick at least one affected job role or department."]
    if errors:
        raise Invalid("Some document fields are not valid.", errors)
    return out


def document_snapshot(doc: ControlledDocument) -> dict[str, Any]:
    out = snapshot(doc, DOCUMENT_FIELDS)
    out["job_role_ids"] = sorted(a.job_role_id for a in doc.audiences if a.job_role_id)
    out["department_ids"] = sorted(a.department_id for a in doc.audiences if a.department_id)
    return out


def read_and_understand_course(
    number: str, title: str, description: str, owner_id: int | None
) -> Course:
    """A new published course with one `sop` module: it carries the training records."""
    now = clock.now()
    course = Course(
        code=number,
        title=f"{number} {title}"[:200],
        summary=description or f"Read and understand {number}, then confirm with your signature.",
        category="Controlled documents",
        tags=",sop,",
        level="beginner",
        language="en",
        estimated_minutes=15,
        status="published",
        version=1,
        owner_id=owner_id,
        passing_score=80,
        mandatory=True,
        is_onboarding=False,
        self_enroll=False,
        published_at=now,
    )
    course.modules.append(
        Module(
            position=1,
            kind="sop",
            title=f"Read and understand {number}",
            body="",
            required=True,
            estimated_minutes=15,
            settings={},
        )
    )
    return course


def create_document(data: dict, actor: User) -> ControlledDocument:
    """Create a document and its read-and-understand course in one transaction.

    Raises Forbidden (not QA/admin), Invalid.
    """
    if not can(actor, "document.manage"):
        raise Forbidden("Only QA and admins manage controlled documents.")
    clean = validate_document(data, creating=True)
    course = read_and_understand_course(
        clean["number"], clean["title"], clean["description"], clean["owner_id"]
    )
    db.session.add(course)
    doc = ControlledDocument(
        number=clean["number"],
        title=clean["title"],
        document_type=clean["document_type"],
        description=clean["description"],
        training_due_days=clean["training_due_days"],
        owner_id=clean["owner_id"],
        created_by_id=actor.id,
        course=course,
    )
    _set_audiences(doc, clean["job_role_ids"], clean["department_ids"])
    db.session.add(doc)
    db.session.flush()
    module = course.modules[0]
    record_audit(
        "create",
        "course",
        course.id,
        after=snapshot(read_back(course), COURSE_AUDIT_FIELDS),
        actor=actor,
    )
    record_audit(
        "create",
        "module",
        module.id,
        after={**snapshot(read_back(module), MODULE_FIELDS), "course_version": course.version},
        actor=actor,
    )
    record_audit("create", "document", doc.id, after=document_snapshot(read_back(doc)), actor=actor)
    db.session.commit()
    catalog_changed()
    return get_document(doc.id)


def _set_audiences(doc: ControlledDocument, role_ids: list[int], dept_ids: list[int]) -> bool:
    """Make the audiences exactly these; return whether anyone new may be affected."""
    wanted = {("role", i) for i in role_ids} | {("dept", i) for i in dept_ids}
    have = {}
    for a in doc.audiences:
        have[("role", a.job_role_id) if a.job_role_id else ("dept", a.department_id)] = a
    for key, audience in have.items():
        if key not in wanted:
            doc.audiences.remove(audience)
    added = [key for key in sorted(wanted) if key not in have]
    for kind, i in added:
        doc.audiences.append(
            DocumentAudience(job_role_id=i) if kind == "role" else DocumentAudience(department_id=i)
        )
    return bool(added)


def update_document(document_id: int, data: dict, actor: User) -> ControlledDocument:
    """Edit a document's metadata and audiences (audited before/after); people newly in the
    audience get the current version. Raises NotFound, Forbidden, Invalid."""
    if not can(actor, "document.manage"):
        raise Forbidden("Only QA and admins manage controlled documents.")
    doc = get_document(document_id)
    clean = validate_document(data, creating=False)
    before = document_snapshot(doc)
    for name in ("title", "document_type", "description", "training_due_days", "owner_id"):
        setattr(doc, name, clean[name])
    widened = _set_audiences(doc, clean["job_role_ids"], clean["department_ids"])
    db.session.flush()
    after = document_snapshot(read_back(doc))
    if after == before:
        return doc
    record_audit("update", "document", doc.id, before=before, after=after, actor=actor)
    course = doc.course
    if course is not None and before["title"] != after["title"]:
        # The course is named after the document; its learning content is unchanged.
        course_before = snapshot(course, COURSE_AUDIT_FIELDS)
        course.title = f"{doc.number} {doc.title}"[:200]
        record_audit(
            "update",
            "course",
            course.id,
            before=course_before,
            after=snapshot(read_back(course), COURSE_AUDIT_FIELDS),
            reason=f"title of {doc.number} changed",
            actor=actor,
        )
    db.session.commit()
    if course is not None and before["title"] != after["title"]:
        catalog_changed()
    if widened:
        from app.platform.jobs import enqueue

        enqueue("documents.assign_current", None, [doc.id], queue="compliance")
    return get_document(doc.id)
