"""Names of training records in the audit trail and in signatures: courses, enrollments,
certificates, requirements, waivers, documents and their versions (registered with
app.audit.labels; gxp sits above learning and compliance, so it can name all of them).

Each function names many records in one query: the trail names a whole page at once.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.audit import labels
from app.compliance.models import (
    CompetencyRequirement,
    Curriculum,
    TrainingAssignment,
    Waiver,
)
from app.extensions import db
from app.gxp.documents import APPROVAL_ENTITY, READ_ENTITY, REVIEW_ENTITY
from app.gxp.models import ControlledDocument, DocumentVersion, InspectionExport
from app.learning.models import (
    Certification,
    Course,
    Enrollment,
    Module,
    Progress,
    QuizQuestion,
    Result,
)
from app.people.models import ApiToken, User
from app.platform.files import StoredFile

V, D = DocumentVersion, ControlledDocument


def _course_name(code: str | None, title: str | None) -> str:
    """'GMP-101 Good Manufacturing Practice' (a document's course is titled with its code)."""
    if code and title and not title.startswith(code):
        return f"{code} {title}"
    return title or code or ""


def _courses(ids):
    rows = db.session.execute(
        select(Course.id, Course.code, Course.title).where(Course.id.in_(ids))
    )
    return {i: _course_name(code, title) for i, code, title in rows}


def _modules(ids):
    rows = db.session.execute(
        select(Module.id, Module.title, Course.code)
        .join(Course, Course.id == Module.course_id)
        .where(Module.id.in_(ids))
    )
    return {i: f"{title} ({code})" for i, title, code in rows}


def _questions(ids):
    rows = db.session.execute(
        select(QuizQuestion.id, QuizQuestion.position, Module.title)
        .join(Module, Module.id == QuizQuestion.module_id)
        .where(QuizQuestion.id.in_(ids))
    )
    return {i: f"question {pos} of {title}" for i, pos, title in rows}


def _enrollment_rows(ids):
    return db.session.execute(
        select(Enrollment.id, User.name, Course.code, Course.title, V.version, D.number, D.title)
        .join(User, User.id == Enrollment.user_id)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(V, V.id == Enrollment.document_version_id)
        .outerjoin(D, D.id == V.document_id)
        .where(Enrollment.id.in_(ids))
    ).all()


def _enrollments(ids):
    out = {}
    for i, person, code, title, version, number, _ in _enrollment_rows(ids):
        what = f"{number} version {version}" if number else _course_name(code, title)
        out[i] = f"{person} in {what}"
    return out


def _read_citations(ids):
    """What a read-and-understood signature covers: the document version, by name."""
    out = {}
    for i, person, code, title, version, number, doc_title in _enrollment_rows(ids):
        out[i] = (
            f"{number} '{doc_title}' version {version}"
            if number
            else f"{_course_name(code, title)} ({person})"
        )
    return out


def _progress(ids):
    rows = db.session.execute(
        select(Progress.id, Progress.enrollment_id, Module.title)
        .join(Module, Module.id == Progress.module_id)
        .where(Progress.id.in_(ids))
    ).all()
    enrollments = _enrollments(sorted({e for _, e, _ in rows}))
    return {i: f"{title} · {enrollments.get(e, f'enrollment #{e}')}" for i, e, title in rows}


def _results(ids):
    rows = db.session.execute(
        select(Result.id, Result.attempt_no, User.name, Module.title)
        .join(User, User.id == Result.user_id)
        .join(Module, Module.id == Result.module_id)
        .where(Result.id.in_(ids))
    )
    return {i: f"{person}, {title} attempt {n}" for i, n, person, title in rows}


def _certifications(ids):
    rows = db.session.execute(
        select(Certification.id, Certification.number, User.name, Course.code, Course.title)
        .join(User, User.id == Certification.user_id)
        .join(Course, Course.id == Certification.course_id)
        .where(Certification.id.in_(ids))
    )
    return {i: f"{n} · {person}, {_course_name(code, t)}" for i, n, person, code, t in rows}


def _certificate_citations(ids):
    rows = db.session.execute(
        select(Certification.id, Certification.number, Course.code, Course.title)
        .join(Course, Course.id == Certification.course_id)
        .where(Certification.id.in_(ids))
    )
    return {i: f"certificate {n} ({_course_name(code, t)})" for i, n, code, t in rows}


def _requirement_rows(ids):
    return db.session.execute(
        select(CompetencyRequirement.id, Course.code, Course.title, Curriculum.title)
        .outerjoin(Course, Course.id == CompetencyRequirement.course_id)
        .outerjoin(Curriculum, Curriculum.id == CompetencyRequirement.curriculum_id)
        .where(CompetencyRequirement.id.in_(ids))
    ).all()


def _requirements(ids):
    return {
        i: _course_name(code, title) if code else (program or f"#{i}")
        for i, code, title, program in _requirement_rows(ids)
    }


def _per_person(model, ids):
    """'Anna Keller · GMP-101 ...' for assignments and waivers (a person and a requirement)."""
    rows = db.session.execute(
        select(model.id, User.name, model.requirement_id)
        .join(User, User.id == model.user_id)
        .where(model.id.in_(ids))
    ).all()
    reqs = _requirements(sorted({r for _, _, r in rows}))
    return {i: f"{person} · {reqs.get(r, f'requirement #{r}')}" for i, person, r in rows}


def _prefixed(prefix: str, names: dict[int, str]) -> dict[int, str]:
    return {i: f"{prefix} {name}" for i, name in names.items()}


def _programs(ids):
    rows = db.session.execute(
        select(Curriculum.id, Curriculum.code, Curriculum.title).where(Curriculum.id.in_(ids))
    )
    return {i: _course_name(code, title) for i, code, title in rows}


def _documents(ids):
    return dict(
        (i, f"{number} {title}")
        for i, number, title in db.session.execute(
            select(D.id, D.number, D.title).where(D.id.in_(ids))
        )
    )


def _versions(ids):
    rows = db.session.execute(
        select(V.id, V.version, D.number).join(D, D.id == V.document_id).where(V.id.in_(ids))
    )
    return {i: f"{number} version {version}" for i, version, number in rows}


def _files(ids):
    rows = db.session.execute(
        select(StoredFile.id, StoredFile.filename).where(StoredFile.id.in_(ids))
    )
    return dict(rows.all())


def _tokens(ids):
    owner = aliased(User)
    rows = db.session.execute(
        select(ApiToken.id, ApiToken.name, owner.name)
        .join(owner, owner.id == ApiToken.user_id)
        .where(ApiToken.id.in_(ids))
    )
    return {i: f"'{name}' of {person}" for i, name, person in rows}


def _exports(ids):
    rows = db.session.execute(
        select(InspectionExport.id, InspectionExport.created_at).where(InspectionExport.id.in_(ids))
    )
    return {i: f"#{i} of {at:%Y-%m-%d %H:%M} UTC" for i, at in rows}


labels.register_kind("course", "Course", _courses)
labels.register_kind("module", "Module", _modules)
labels.register_kind("quiz_question", "Quiz question", _questions)
labels.register_kind("enrollment", "Enrollment", _enrollments, _read_citations)
labels.register_kind("progress", "Progress", _progress)
labels.register_kind(
    "result", "Result", _results, lambda ids: _prefixed("the result of", _results(ids))
)
labels.register_kind("certification", "Certificate", _certifications, _certificate_citations)
labels.register_kind("requirement", "Requirement", _requirements)
labels.register_kind("assignment", "Assignment", lambda ids: _per_person(TrainingAssignment, ids))
labels.register_kind(
    "waiver",
    "Waiver",
    lambda ids: _per_person(Waiver, ids),
    lambda ids: _prefixed("the waiver for", _per_person(Waiver, ids)),
)
labels.register_kind("program", "Program", _programs)
labels.register_kind("document", "Document", _documents)
labels.register_kind("document_version", "Document version", _versions)
labels.register_kind("file", "File", _files)
labels.register_kind("api_token", "API token", _tokens)
labels.register_kind("inspection_export", "Inspection export", _exports)
labels.register_entity(READ_ENTITY, "enrollment")
labels.register_entity(REVIEW_ENTITY, "document_version")
labels.register_entity(APPROVAL_ENTITY, "document_version")
labels.register_field("course_id", "Course", "course")
labels.register_field("module_id", "Module", "module")
labels.register_field("enrollment_id", "Enrollment", "enrollment")
labels.register_field("requirement_id", "Requirement", "requirement")
labels.register_field("curriculum_id", "Program", "program")
labels.register_field("document_id", "Document", "document")
labels.register_field("document_version_id", "Document version", "document_version")
labels.register_field("file_id", "File", "file")
labels.register_field("pdf_file_id", "PDF", "file")
labels.register_field("json_file_id", "JSON", "file")
labels.register_field("submission_file_id", "Submitted file", "file")
labels.register_field("course_version", "Course version")
labels.register_field("change_class", "Change")
labels.register_field("change_note", "What changed")
labels.register_field("effective_by_id", "Approved by", "user")
labels.register_field("classified_by_id", "Reviewed by", "user")
