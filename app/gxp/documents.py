"""Controlled documents (the EDMS side): SOPs, their versions, QA's signed review and approval,
and read-and-understand training on every version that changes what people do.

A version is uploaded as a draft. A version after the first is classified by QA with an
e-signature ("reviewed"): `editorial` retrains nobody (the reason is kept), `significant`
retrains every affected person. Making a version effective is signed too ("approved"); the
previous effective version becomes superseded. Training is assigned by the job
the job documents.assign_training in a few set-based statements, idempotently.

Versions become effective in upload order, so the latest version that trains (the first one,
or a significant one) is the "training baseline": an enrollment for it or any later version
counts as trained on the current version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    Date,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload, lazyload, selectinload

from app.audit.signatures import Manifestation, manifestations, sign, signed_content
from app.compliance.events import engine_ran
from app.extensions import db
from app.gxp.document_text import TextDiff, check_document_upload, diff_text, extract_text
from app.gxp.models import ControlledDocument, DocumentAudience, DocumentVersion
from app.learning.courses import AUDIT_FIELDS as COURSE_AUDIT_FIELDS
from app.learning.courses import catalog_changed
from app.learning.enrollments import next_cycle_sql
from app.learning.models import Course, Enrollment, Module, Progress
from app.learning.modules import MODULE_FIELDS
from app.people.models import Department, JobRole, User
from app.people.permissions import can
from app.platform import clock, files
from app.platform.audit import (
    AuditLog,
    actor_columns,
    record_audit,
    record_audit_for_inserted,
    snapshot,
)
from app.platform.errors import Conflict, Forbidden, Invalid, NotFound
from app.platform.inputs import blank, to_choice, to_date, to_id_list, to_int, to_text
from app.platform.pagination import Page, clamp, paginate
from app.platform.sql import add_days, json_object, upsert

V = DocumentVersion
OPEN_ENROLLMENT = ("assigned", "in_progress")
_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
MAX_EFFECTIVE_AHEAD_DAYS = 365
DOCUMENT_FIELDS = ["number", "title", "description", "training_due_days", "owner_id", "course_id"]
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
ENROLLMENT_AUDIT = [
    "user_id",
    "course_id",
    "cycle",
    "source",
    "due_date",
    "status",
    "document_version_id",
]
# Signature entities: QA's review (classification) and approval (made effective) of a
# version, and a learner's read-and-understood on an enrollment.
REVIEW_ENTITY = "document_version_review"
APPROVAL_ENTITY = "document_version"
READ_ENTITY = "sop_enrollment"


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


def read_content(enrollment: Enrollment, version: DocumentVersion) -> dict:
    """What a learner's "read and understood" covers: who, which record, which exact file."""
    return {
        "enrollment_id": enrollment.id,
        "user_id": enrollment.user_id,
        "document": version.document.number,
        "version": version.version,
        "checksum": version.checksum,
    }


def _version_by_entity_id(entity_id: str) -> DocumentVersion | None:
    return db.session.get(V, int(entity_id)) if entity_id.isdigit() else None


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


@signed_content(READ_ENTITY)
def _signed_read(entity_id: str) -> dict | None:
    enrollment = db.session.get(Enrollment, int(entity_id)) if entity_id.isdigit() else None
    if enrollment is None or enrollment.document_version_id is None:
        return None
    return read_content(enrollment, db.session.get(V, enrollment.document_version_id))


def review_statement(version: DocumentVersion, previous: DocumentVersion | None) -> str:
    since = f" against version {previous.version}" if previous else ""
    return (
        f"I have reviewed the changes of {version.document.number} version {version.version}"
        f"{since} and classify them as shown."
    )


def approval_statement(version: DocumentVersion) -> str:
    return f"I approve {version.document.number} version {version.version} to become effective."


def read_statement(version: DocumentVersion) -> str:
    return f"I have read and understood {version.document.number} version {version.version}"


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


def trains(version: DocumentVersion) -> bool:
    """A first version always trains; a later one only when classified significant."""
    return version.change_class in (None, "significant")


def _audience_users(document_ids=None, user_ids=None):
    """(user_id, document_id) for every active person a document applies to, without repeats
    (someone in an affected role and an affected department counts once)."""
    A = DocumentAudience
    parts = []
    for scope in (A.job_role_id == User.job_role_id, A.department_id == User.department_id):
        q = (
            select(User.id.label("user_id"), A.document_id.label("document_id"))
            .join(A, scope)
            .where(User.active.is_(True))
        )
        if document_ids is not None:
            q = q.where(A.document_id.in_(list(document_ids)))
        if user_ids is not None:
            q = q.where(User.id.in_(list(user_ids)))
        parts.append(q)
    return union(*parts)


def _baselines(document_ids=None):
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


def _trained_on_current(au, bl):
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
    au = _audience_users(document_ids=ids).subquery("au")
    bl = _baselines(ids).subquery("bl")
    trained = case((_trained_on_current(au, bl), 1), else_=0)
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
    au = _audience_users(document_ids=[document_id]).subquery("au")
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
        bl = _baselines([document_id]).subquery("bl")
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
        "create", "course", course.id, after=snapshot(course, COURSE_AUDIT_FIELDS), actor=actor
    )
    record_audit(
        "create",
        "module",
        module.id,
        after={**snapshot(module, MODULE_FIELDS), "course_version": course.version},
        actor=actor,
    )
    record_audit("create", "document", doc.id, after=document_snapshot(doc), actor=actor)
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
    for name in ("title", "description", "training_due_days", "owner_id"):
        setattr(doc, name, clean[name])
    widened = _set_audiences(doc, clean["job_role_ids"], clean["department_ids"])
    db.session.flush()
    after = document_snapshot(doc)
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
            after=snapshot(course, COURSE_AUDIT_FIELDS),
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
        "create", "document_version", version.id, after=version_snapshot(version), actor=actor
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


def version_view(document_id: int, version_id: int) -> VersionView:
    """The version page: metadata and its diff, the text diff, signatures. Raises NotFound."""
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
        after=version_snapshot(version),
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

    Raises NotFound, Forbidden, Conflict (not a draft, a first version, classified already),
    Invalid (fields or password), RateLimited (locked out).
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

    Raises NotFound, Forbidden, Conflict (not a draft, not classified, a newer one effective),
    Invalid (date or password), RateLimited (locked out).
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


# --- read-and-understand training -----------------------------------------------------------


def _assign(now, on: date, *, user_ids=None, document_ids=None) -> int:
    """Enrol every affected person not yet on the baseline (or a later) version in the current
    effective version, as one INSERT ... SELECT; returns how many.

    Due N days after the effective date, or after `on` when that is later (people who join
    an audience get the full N days). The NOT EXISTS and the unique (person, version) index
    make it idempotent.
    """
    D, E = ControlledDocument, Enrollment
    au = _audience_users(document_ids, user_ids).subquery("au")
    bl = _baselines(document_ids).subquery("bl")
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
    rows = select(
        literal(now, type_=AuditLog.at.type),
        literal(actor_id, type_=AuditLog.actor_id.type),
        literal(label),
        literal("update"),
        literal("enrollment"),
        cast(E.id, String),
        json_object(
            literal_column("'status'"),
            E.status,
            literal_column("'document_version_id'"),
            E.document_version_id,
        ),
        json_object(
            literal_column("'status'"),
            literal("expired"),
            literal_column("'document_version_id'"),
            E.document_version_id,
        ),
        literal(reason),
    ).where(*where)
    db.session.execute(
        upsert(AuditLog).from_select(
            [
                "at",
                "actor_id",
                "actor_label",
                "action",
                "entity",
                "entity_id",
                "before",
                "after",
                "reason",
            ],
            rows,
        )
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
    assigned = _assign(now, version.effective_date or now.date(), document_ids=[doc.id])
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
    assigned = _assign(now, now.date(), user_ids=user_ids, document_ids=document_ids)
    if assigned:
        reason = literal("read and understand: current version of a document that applies")
        record_audit_for_inserted(
            Enrollment, "enrollment", ENROLLMENT_AUDIT, now, floor, reason, None
        )
    db.session.commit()
    return assigned


# --- the read-and-understand panel ----------------------------------------------------------


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
