"""The employee training record's read model, set-based: the row types of the record (person,
compliance, enrollments, results, certificates, waivers, assignments) and the batched reads
that fill them, one query per kind of row for any number of people. The record page, its
PDF/CSV and the training-records list ask them about one person; the inspection export asks
them about batches.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.audit.models import ESignature
from app.compliance.models import CompetencyRequirement, Curriculum, TrainingAssignment, Waiver
from app.extensions import db
from app.gxp.models import DocumentVersion
from app.learning.certificates import status_from_dates
from app.learning.models import Certification, Course, Enrollment, Module, Result
from app.people.models import Department, JobRole, Team, User
from app.platform.audit import AuditLog

R = CompetencyRequirement


# --- the rows of the record ----------------------------------------------------------------------


@dataclass(frozen=True)
class PersonHeader:
    id: int
    name: str
    email: str
    department: str | None
    team: str | None
    job_role: str | None
    risk_level: str | None
    manager_id: int | None
    manager_name: str | None
    manager_email: str | None
    hire_date: date | None
    active: bool
    deactivated_at: datetime | None


@dataclass(frozen=True)
class ComplianceLine:
    """The current status of one requirement that applies to the person (from `statuses()`)."""

    requirement_id: int
    target_kind: str  # "course" or "program"
    target_code: str
    target_title: str
    applies_via: str  # e.g. "Job role: Operator"
    risk_level: str
    status: str
    due_date: date | None
    completed_on: date | None
    valid_until: date | None  # None: never expires (or not completed)
    waiver_id: int | None


@dataclass(frozen=True)
class EnrollmentLine:
    id: int
    course_id: int
    course_code: str
    course_title: str
    # The version certified (from the certificate); None when no certificate records it.
    course_version: int | None
    cycle: int
    source: str
    assigned_by: str | None
    created_at: datetime
    due_date: date | None
    status: str
    started_at: datetime | None
    completed_at: datetime | None
    score: float | None
    certificate_id: int | None
    # Read-and-understand training: the controlled document version it is for.
    document_version: str | None = None

    @property
    def imported(self) -> bool:
        """A completion recorded before Cadre and imported: no modules were taken here."""
        return self.source == "import" and self.status == "completed"


@dataclass(frozen=True)
class ResultLine:
    """One quiz attempt or assignment submission; graded_by None on a graded quiz: automatic."""

    id: int
    enrollment_id: int
    cycle: int
    course_code: str
    course_title: str
    module_id: int
    module_title: str
    kind: str
    attempt_no: int
    status: str
    score: float | None
    max_score: float | None
    passed: bool | None
    graded_by_id: int | None
    graded_by: str | None
    submitted_at: datetime | None
    graded_at: datetime | None


@dataclass(frozen=True)
class CertificateLine:
    id: int
    number: str
    course_code: str
    course_title: str
    course_version: int
    enrollment_id: int | None
    issued_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    status: str
    score: float | None
    issue_reason: str | None  # why it was issued by hand
    revoked_by: str | None
    revocation_reason: str | None


@dataclass(frozen=True)
class WaiverLine:
    id: int
    requirement_id: int
    requirement: str
    reason: str
    status: str
    starts_on: date
    ends_on: date
    requested_by: str | None
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


@dataclass(frozen=True)
class AssignmentLine:
    id: int
    requirement_id: int
    requirement: str
    cycle: int
    due_date: date | None
    reason: str
    created_at: datetime


@dataclass(frozen=True)
class RequirementInfo:
    """What a requirement asks for and why it applies, as the record shows it."""

    kind: str
    code: str
    title: str
    applies_via: str
    risk_level: str

    @property
    def label(self) -> str:
        return f"{self.code} {self.title}"


# --- the read model, set-based: one query per kind of row for any number of people -------------
#
# The *_lines functions take the people's ids (and optional extra conditions) and return their
# lines with the owner's id, ordered by person first: the record asks about one person, the
# inspection export about a batch.


def signature_validity(signatures: Iterable[ESignature]) -> dict[int, bool | None]:
    """Signature id -> does its record still hash as signed (None: cannot be checked), through
    the signatures read model: one call per kind of signed record."""
    from app.audit.signatures import manifestations

    by_entity: dict[str, set[str]] = {}
    for sig in signatures:
        by_entity.setdefault(sig.entity, set()).add(sig.entity_id)
    valid: dict[int, bool | None] = {}
    for entity, ids in by_entity.items():
        for shown in manifestations(entity, ids).values():
            valid.update({m.id: m.valid for m in shown})
    return valid


def person_headers(user_ids: Collection[int]) -> dict[int, PersonHeader]:
    """The header of each of the people who exist, by id."""
    manager = aliased(User)
    rows = db.session.execute(
        select(
            User.id,
            User.name,
            User.email,
            Department.name,
            Team.name,
            JobRole.name,
            JobRole.risk_level,
            User.manager_id,
            manager.name,
            manager.email,
            User.hire_date,
            User.active,
            User.deactivated_at,
        )
        .outerjoin(Department, Department.id == User.department_id)
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(JobRole, JobRole.id == User.job_role_id)
        .outerjoin(manager, manager.id == User.manager_id)
        .where(User.id.in_(sorted(user_ids)))
        .order_by(User.id)
    ).all()
    return {
        row[0]: PersonHeader(*row[:11], active=bool(row[11]), deactivated_at=row[12])
        for row in rows
    }


def requirements_by_id(ids: set[int]) -> dict[int, RequirementInfo]:
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            R.id,
            R.course_id,
            Course.code,
            Course.title,
            Curriculum.code,
            Curriculum.title,
            JobRole.name,
            Department.name,
            Team.name,
            R.risk_level,
        )
        .outerjoin(Course, Course.id == R.course_id)
        .outerjoin(Curriculum, Curriculum.id == R.curriculum_id)
        .outerjoin(JobRole, JobRole.id == R.job_role_id)
        .outerjoin(Department, Department.id == R.department_id)
        .outerjoin(Team, Team.id == R.team_id)
        .where(R.id.in_(sorted(ids)))
    ).all()
    out = {}
    for rid, course_id, c_code, c_title, p_code, p_title, role, dept, team, risk in rows:
        if role is not None:
            via = f"Job role: {role}"
        elif dept is not None:
            via = f"Department: {dept}"
        else:
            via = f"Team: {team or '?'}"
        if course_id is not None:
            out[rid] = RequirementInfo("course", c_code, c_title, via, risk)
        else:
            out[rid] = RequirementInfo("program", p_code or "?", p_title or "?", via, risk)
    return out


def compliance_line(row, req: RequirementInfo) -> ComplianceLine:
    return ComplianceLine(
        requirement_id=row.requirement_id,
        target_kind=req.kind,
        target_code=req.code,
        target_title=req.title,
        applies_via=req.applies_via,
        risk_level=req.risk_level,
        status=row.status,
        due_date=row.due_date,
        completed_on=row.completed_on,
        valid_until=row.valid_until,
        waiver_id=row.waiver_id,
    )


def enrollment_lines(user_ids: Collection[int], *where) -> list[tuple[int, EnrollmentLine]]:
    """Every cycle of every course, by person, course code, cycle."""
    assigner = aliased(User)
    rows = db.session.execute(
        select(
            Enrollment.user_id,
            Enrollment.id,
            Enrollment.course_id,
            Course.code,
            Course.title,
            Certification.course_version,
            Enrollment.cycle,
            Enrollment.source,
            assigner.name,
            Enrollment.created_at,
            Enrollment.due_date,
            Enrollment.status,
            Enrollment.started_at,
            Enrollment.completed_at,
            Enrollment.score,
            Certification.id,
            DocumentVersion.version,
        )
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(assigner, assigner.id == Enrollment.assigned_by_id)
        .outerjoin(Certification, Certification.enrollment_id == Enrollment.id)
        .outerjoin(DocumentVersion, DocumentVersion.id == Enrollment.document_version_id)
        .where(Enrollment.user_id.in_(sorted(user_ids)), *where)
        .order_by(Enrollment.user_id, Course.code, Enrollment.cycle, Enrollment.id)
    ).all()
    return [(row[0], EnrollmentLine(*row[1:])) for row in rows]


def result_lines(user_ids: Collection[int], *where) -> list[tuple[int, ResultLine]]:
    """Quiz attempts and assignment submissions; `where` may filter on their Enrollment."""
    return result_lines_where(Result.user_id.in_(sorted(user_ids)), *where)


def result_lines_where(*where) -> list[tuple[int, ResultLine]]:
    grader = aliased(User)
    rows = db.session.execute(
        select(
            Result.user_id,
            Result.id,
            Result.enrollment_id,
            Enrollment.cycle,
            Course.code,
            Course.title,
            Result.module_id,
            Module.title,
            Result.kind,
            Result.attempt_no,
            Result.status,
            Result.score,
            Result.max_score,
            Result.passed,
            Result.graded_by_id,
            grader.name,
            Result.submitted_at,
            Result.graded_at,
        )
        .join(Enrollment, Enrollment.id == Result.enrollment_id)
        .join(Module, Module.id == Result.module_id)
        .join(Course, Course.id == Module.course_id)
        .outerjoin(grader, grader.id == Result.graded_by_id)
        .where(*where)
        .order_by(
            Result.user_id,
            Course.code,
            Enrollment.cycle,
            Module.position,
            Result.attempt_no,
            Result.id,
        )
    ).all()
    return [(row[0], ResultLine(*row[1:])) for row in rows]


def certificate_lines(
    user_ids: Collection[int], now: datetime, *where
) -> list[tuple[int, CertificateLine]]:
    """Certificates with their status at `now` and who revoked them why (two queries)."""
    rows = db.session.execute(
        select(Certification, Course.code, Course.title)
        .join(Course, Course.id == Certification.course_id)
        .where(Certification.user_id.in_(sorted(user_ids)), *where)
        .order_by(Certification.user_id, Certification.issued_at, Certification.id)
    ).all()
    revoked = [c.id for c, _, _ in rows if c.revoked_at is not None]
    revocations = _revocations(revoked)
    out = []
    for c, code, title in rows:
        by, why = revocations.get(c.id, (None, None))
        line = CertificateLine(
            id=c.id,
            number=c.number,
            course_code=code,
            course_title=title,
            course_version=c.course_version,
            enrollment_id=c.enrollment_id,
            issued_at=c.issued_at,
            expires_at=c.expires_at,
            revoked_at=c.revoked_at,
            status=status_from_dates(c.revoked_at, c.expires_at, now, c.approval_status),
            score=c.score,
            issue_reason=c.reason,
            revoked_by=by,
            revocation_reason=why,
        )
        out.append((c.user_id, line))
    return out


def _revocations(cert_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """Who revoked each certificate and why: the reason lives in the audit trail."""
    if not cert_ids:
        return {}
    rows = db.session.execute(
        select(AuditLog.entity_id, AuditLog.actor_label, AuditLog.reason, AuditLog.before)
        .where(
            AuditLog.entity == "certification",
            AuditLog.action == "update",
            AuditLog.entity_id.in_([str(i) for i in cert_ids]),
        )
        .order_by(AuditLog.at, AuditLog.id)
    ).all()
    out: dict[int, tuple[str, str | None]] = {}
    for entity_id, label, reason, before in rows:
        # The revoking update is the one whose "before" was not yet revoked.
        if not (before or {}).get("revoked_at"):
            out[int(entity_id)] = (label, reason)
    return out


def waiver_and_assignment_lines(
    user_ids: Collection[int],
    *,
    waivers_where: Iterable = (),
    assignments_where: Iterable = (),
    more_requirements: Iterable[int] = (),
) -> tuple[
    list[tuple[int, WaiverLine]], list[tuple[int, AssignmentLine]], dict[int, RequirementInfo]
]:
    """Waivers and assignments with their requirements' labels (three queries), and those
    labels; `more_requirements` are labelled in the same query."""
    ids = sorted(user_ids)
    requester, decider = aliased(User), aliased(User)
    waivers = db.session.execute(
        select(Waiver, requester.name, decider.name)
        .outerjoin(requester, requester.id == Waiver.requested_by_id)
        .outerjoin(decider, decider.id == Waiver.decided_by_id)
        .where(Waiver.user_id.in_(ids), *waivers_where)
        .order_by(Waiver.user_id, Waiver.requested_at, Waiver.id)
    ).all()
    assignments = list(
        db.session.scalars(
            select(TrainingAssignment)
            .where(TrainingAssignment.user_id.in_(ids), *assignments_where)
            .order_by(
                TrainingAssignment.user_id, TrainingAssignment.created_at, TrainingAssignment.id
            )
        )
    )
    requirements = requirements_by_id(
        set(more_requirements)
        | {w.requirement_id for w, _, _ in waivers}
        | {a.requirement_id for a in assignments}
    )
    waiver_lines = [
        (
            w.user_id,
            WaiverLine(
                id=w.id,
                requirement_id=w.requirement_id,
                requirement=requirements[w.requirement_id].label,
                reason=w.reason,
                status=w.status,
                starts_on=w.starts_on,
                ends_on=w.ends_on,
                requested_by=requested_by,
                requested_at=w.requested_at,
                decided_by=decided_by,
                decided_at=w.decided_at,
                decision_note=w.decision_note,
            ),
        )
        for w, requested_by, decided_by in waivers
    ]
    assignment_lines = [
        (
            a.user_id,
            AssignmentLine(
                id=a.id,
                requirement_id=a.requirement_id,
                requirement=requirements[a.requirement_id].label,
                cycle=a.cycle,
                due_date=a.due_date,
                reason=a.reason,
                created_at=a.created_at,
            ),
        )
        for a in assignments
    ]
    return waiver_lines, assignment_lines, requirements
