"""The employee training record ("the accurate and complete copy an inspector asks for"), its
CSV export, and the training-records list behind /api/v1/training/records.

`employee_record()` gathers everything one person ever did in a fixed number of queries,
whatever the length of their history. Its checksum is the SHA-256 of the canonical JSON of the
record's content (everything but the moment it was generated), so a printed copy can be matched
to the data: the same data as of the same day always gives the same checksum.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased, contains_eager

from app.audit.models import ESignature
from app.compliance.models import CompetencyRequirement, Curriculum, TrainingAssignment, Waiver
from app.compliance.statuses import Scope, statuses
from app.extensions import db
from app.learning.certificates import status_from_dates
from app.learning.enrollments import can_view_user, visible_user
from app.learning.models import (
    ENROLLMENT_STATUSES,
    Certification,
    Course,
    Enrollment,
    Module,
    Result,
)
from app.people.models import Department, JobRole, Team, User
from app.people.permissions import can
from app.platform import clock
from app.platform.audit import AuditLog
from app.platform.csv_export import to_csv
from app.platform.errors import Forbidden, Invalid, NotFound
from app.platform.pagination import Page, paginate
from app.platform.timefmt import iso_utc

R = CompetencyRequirement
SIGNATURES_NONE = "Electronic signatures: none recorded"


# --- the record --------------------------------------------------------------------------------


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
class EmployeeRecord:
    """Everything one person ever did, as of `as_of`; `checksum` fingerprints the content."""

    as_of: date
    generated_at: datetime
    person: PersonHeader
    compliance: list[ComplianceLine]
    enrollments: list[EnrollmentLine]
    results: list[ResultLine]
    certificates: list[CertificateLine]
    waivers: list[WaiverLine]
    assignments: list[AssignmentLine]
    # Filled once electronic signatures exist; empty means "none recorded".
    signatures: list[dict] = field(default_factory=list)
    checksum: str = ""

    def content(self) -> dict[str, Any]:
        """The record's data as plain JSON values (all but generated_at and the checksum)."""
        return jsonable(
            {
                "as_of": self.as_of,
                "person": asdict(self.person),
                "compliance": [asdict(x) for x in self.compliance],
                "enrollments": [asdict(x) for x in self.enrollments],
                "results": [asdict(x) for x in self.results],
                "certificates": [asdict(x) for x in self.certificates],
                "waivers": [asdict(x) for x in self.waivers],
                "assignments": [asdict(x) for x in self.assignments],
                "signatures": list(self.signatures),
            }
        )

    def filename(self, ext: str) -> str:
        """`training-record-<email local part>-<YYYYMMDD>.<ext>`."""
        local = self.person.email.split("@", 1)[0]
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", local).strip(".-") or f"user-{self.person.id}"
        return f"training-record-{safe}-{self.generated_at:%Y%m%d}.{ext}"

    @property
    def certificates_by_id(self) -> dict[int, CertificateLine]:
        return {c.id: c for c in self.certificates}


def jsonable(value: Any) -> Any:
    """`value` as plain JSON values: dates and times as ISO text (times in UTC with a Z), tuples
    as lists. The record and the inspection export serialise their rows with it."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_json(content: dict[str, Any]) -> str:
    """Sorted keys, no whitespace, UTF-8: the same data always serialises to the same text."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_checksum(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def employee_record(
    user_id: int, on: date | None = None, now: datetime | None = None
) -> EmployeeRecord:
    """Gather one person's complete training record as of `on` (default today).

    A fixed number of queries (about ten) whatever the size of the history: the set-based read
    model below, asked about one person (the inspection export asks it about batches).
    Access is the caller's business (see `visible_user`). Raises NotFound.
    """
    now = now or clock.now()
    on = on or now.date()
    person = person_headers([user_id]).get(user_id)
    if person is None:
        raise NotFound(f"User {user_id} does not exist.")
    compliance_rows = statuses(on, Scope(user_ids=[user_id]))
    waivers, assignments, requirements = waiver_and_assignment_lines(
        [user_id], more_requirements={r.requirement_id for r in compliance_rows}
    )
    record = EmployeeRecord(
        as_of=on,
        generated_at=now,
        person=person,
        compliance=[_compliance_line(r, requirements[r.requirement_id]) for r in compliance_rows],
        enrollments=[line for _, line in enrollment_lines([user_id])],
        results=[line for _, line in result_lines([user_id])],
        certificates=[line for _, line in certificate_lines([user_id], now)],
        waivers=[line for _, line in waivers],
        assignments=[line for _, line in assignments],
    )
    record = replace(record, signatures=_signatures(user_id, record))
    checksum = record_checksum(record.content())
    return replace(record, checksum=checksum)


def _signatures(user_id: int, record: EmployeeRecord) -> list[dict]:
    """Signatures the person gave, and signatures others put on the person's records."""
    on_records = {
        "enrollment": [e.id for e in record.enrollments],
        "result": [r.id for r in record.results],
        "certification": [c.id for c in record.certificates],
        "waiver": [w.id for w in record.waivers],
    }
    where = ESignature.user_id == user_id
    for entity, ids in on_records.items():
        if ids:
            ids_text = [str(i) for i in ids]
            where = where | ((ESignature.entity == entity) & ESignature.entity_id.in_(ids_text))
    rows = db.session.scalars(select(ESignature).where(where).order_by(ESignature.id)).all()
    valid = signature_validity(rows)
    return [
        {
            "name": r.printed_name,
            "meaning": r.meaning_label,
            "statement": r.statement,
            "record": f"{r.entity} #{r.entity_id}",
            "at": f"{r.local_time} ({r.signed_at.strftime('%Y-%m-%d %H:%M:%S')} UTC)",
            "content_hash": r.content_hash,
            "status": {True: "valid", False: "signature invalid"}.get(valid.get(r.id), "n/a"),
        }
        for r in rows
    ]


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


def _compliance_line(row, req: RequirementInfo) -> ComplianceLine:
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
        )
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(assigner, assigner.id == Enrollment.assigned_by_id)
        .outerjoin(Certification, Certification.enrollment_id == Enrollment.id)
        .where(Enrollment.user_id.in_(sorted(user_ids)), *where)
        .order_by(Enrollment.user_id, Course.code, Enrollment.cycle, Enrollment.id)
    ).all()
    return [(row[0], EnrollmentLine(*row[1:])) for row in rows]


def result_lines(user_ids: Collection[int], *where) -> list[tuple[int, ResultLine]]:
    """Quiz attempts and assignment submissions; `where` may filter on their Enrollment."""
    return _results(Result.user_id.in_(sorted(user_ids)), *where)


def _results(*where) -> list[tuple[int, ResultLine]]:
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
            status=status_from_dates(c.revoked_at, c.expires_at, now),
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


# --- CSV -----------------------------------------------------------------------------------------

CSV_COLUMNS = [
    "section",
    "field",
    "value",
    "id",
    "requirement",
    "applies_via",
    "course_code",
    "course_title",
    "course_version",
    "cycle",
    "source",
    "status",
    "assigned_by",
    "created_at",
    "due_date",
    "started_at",
    "completed_at",
    "valid_until",
    "score",
    "max_score",
    "passed",
    "module",
    "kind",
    "attempt_no",
    "graded_by",
    "submitted_at",
    "graded_at",
    "certificate_id",
    "certificate_number",
    "issued_at",
    "expires_at",
    "revoked_at",
    "starts_on",
    "ends_on",
    "reason",
    "requested_by",
    "requested_at",
    "decided_by",
    "decided_at",
    "note",
]


def _csv_rows(record: EmployeeRecord) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"section": "record", "field": "generated_at", "value": record.generated_at},
        {"section": "record", "field": "as_of", "value": record.as_of},
        {"section": "record", "field": "checksum_sha256", "value": record.checksum},
    ]
    for name, value in asdict(record.person).items():
        rows.append({"section": "person", "field": name, "value": value})
    for c in record.compliance:
        rows.append(
            {
                "section": "compliance",
                "id": c.requirement_id,
                "requirement": f"{c.target_code} {c.target_title}",
                "applies_via": c.applies_via,
                "kind": c.target_kind,
                "status": c.status,
                "due_date": c.due_date,
                "completed_at": c.completed_on,
                "valid_until": c.valid_until,
                "note": f"risk {c.risk_level}" + (f"; waiver {c.waiver_id}" if c.waiver_id else ""),
            }
        )
    for e in record.enrollments:
        rows.append(
            {
                "section": "enrollment",
                "id": e.id,
                "course_code": e.course_code,
                "course_title": e.course_title,
                "course_version": e.course_version,
                "cycle": e.cycle,
                "source": e.source,
                "status": e.status,
                "assigned_by": e.assigned_by,
                "created_at": e.created_at,
                "due_date": e.due_date,
                "started_at": e.started_at,
                "completed_at": e.completed_at,
                "score": e.score,
                "certificate_id": e.certificate_id,
            }
        )
    for r in record.results:
        rows.append(
            {
                "section": "result",
                "id": r.id,
                "course_code": r.course_code,
                "course_title": r.course_title,
                "cycle": r.cycle,
                "module": r.module_title,
                "kind": r.kind,
                "attempt_no": r.attempt_no,
                "status": r.status,
                "score": r.score,
                "max_score": r.max_score,
                "passed": r.passed,
                "graded_by": r.graded_by,
                "submitted_at": r.submitted_at,
                "graded_at": r.graded_at,
            }
        )
    for c in record.certificates:
        rows.append(
            {
                "section": "certificate",
                "id": c.id,
                "certificate_number": c.number,
                "course_code": c.course_code,
                "course_title": c.course_title,
                "course_version": c.course_version,
                "status": c.status,
                "score": c.score,
                "issued_at": c.issued_at,
                "expires_at": c.expires_at,
                "revoked_at": c.revoked_at,
                "decided_by": c.revoked_by,
                "reason": c.revocation_reason or c.issue_reason,
            }
        )
    for w in record.waivers:
        rows.append(
            {
                "section": "waiver",
                "id": w.id,
                "requirement": w.requirement,
                "status": w.status,
                "starts_on": w.starts_on,
                "ends_on": w.ends_on,
                "reason": w.reason,
                "requested_by": w.requested_by,
                "requested_at": w.requested_at,
                "decided_by": w.decided_by,
                "decided_at": w.decided_at,
                "note": w.decision_note,
            }
        )
    for a in record.assignments:
        rows.append(
            {
                "section": "assignment",
                "id": a.id,
                "requirement": a.requirement,
                "cycle": a.cycle,
                "due_date": a.due_date,
                "reason": a.reason,
                "created_at": a.created_at,
            }
        )
    if record.signatures:
        for s in record.signatures:
            rows.append({"section": "signature", **s})
    else:
        rows.append({"section": "signature", "value": SIGNATURES_NONE})
    return rows


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def record_csv(record: EmployeeRecord) -> str:
    """One flat CSV of the whole record, a `section` column telling the rows apart (UTC)."""
    return to_csv(
        CSV_COLUMNS,
        ([_cell(row.get(name)) for name in CSV_COLUMNS] for row in _csv_rows(record)),
    )


# --- training records list (one record per enrollment) ------------------------------------------


@dataclass(frozen=True)
class RecordFilters:
    user_id: int | None = None
    department_id: int | None = None
    course_id: int | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class TrainingRecord:
    id: int
    user_id: int
    user_email: str
    user_name: str
    course_id: int
    course_code: str
    course_title: str
    cycle: int
    source: str
    status: str
    due_date: date | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    score: float | None
    certificate_id: int | None


@dataclass(frozen=True)
class TrainingRecordDetail:
    record: TrainingRecord
    results: list[ResultLine]


def _int_arg(errors: dict, name: str, raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 10 or int(raw) > 2147483647:
        errors[name] = ["Must be a whole number (an id)."]
        return None
    return int(raw)


def _date_arg(errors: dict, name: str, raw: str | None) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        if len(raw) != 10:
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = ["An ISO date such as 2025-01-31."]
        return None


def parse_record_filters(args: Mapping[str, str]) -> RecordFilters:
    """Read the list filters from query arguments. Raises Invalid with field errors."""
    errors: dict[str, list[str]] = {}
    status = args.get("status") or None
    if status is not None and status not in ENROLLMENT_STATUSES:
        errors["status"] = [f"One of: {', '.join(ENROLLMENT_STATUSES)}."]
    filters = RecordFilters(
        user_id=_int_arg(errors, "user_id", args.get("user_id")),
        department_id=_int_arg(errors, "department", args.get("department")),
        course_id=_int_arg(errors, "course_id", args.get("course_id")),
        status=status,
        date_from=_date_arg(errors, "from", args.get("from")),
        date_to=_date_arg(errors, "to", args.get("to")),
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors["to"] = ["Must not be before `from`."]
    if errors:
        raise Invalid("Some filters are not valid.", errors)
    return filters


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def record_moment():
    """When a training record happened for date filters: its completion, else its creation."""
    return func.coalesce(Enrollment.completed_at, Enrollment.created_at)


def within_days(column, date_from: date | None, date_to: date | None) -> list:
    """Conditions keeping a timestamp column within the days (UTC, inclusive); none if open."""
    conditions = []
    if date_from is not None:
        conditions.append(column >= _day_start(date_from))
    if date_to is not None:
        conditions.append(column < _day_start(date_to + timedelta(days=1)))
    return conditions


def _records_query(viewer: User, filters: RecordFilters) -> Select:
    query = (
        select(Enrollment)
        .join(Enrollment.user)
        .join(Enrollment.course)
        .options(contains_eager(Enrollment.user), contains_eager(Enrollment.course))
    )
    if not can(viewer, "records.view_all"):
        # The same rule as can_view_user: oneself and one's direct reports.
        query = query.where(or_(User.id == viewer.id, User.manager_id == viewer.id))
    if filters.user_id is not None:
        query = query.where(Enrollment.user_id == filters.user_id)
    if filters.department_id is not None:
        query = query.where(User.department_id == filters.department_id)
    if filters.course_id is not None:
        query = query.where(Enrollment.course_id == filters.course_id)
    if filters.status is not None:
        query = query.where(Enrollment.status == filters.status)
    query = query.where(*within_days(record_moment(), filters.date_from, filters.date_to))
    return query.order_by(Enrollment.id)


def _certificate_ids(enrollment_ids: list[int]) -> dict[int, int]:
    if not enrollment_ids:
        return {}
    rows = db.session.execute(
        select(Certification.enrollment_id, Certification.id).where(
            Certification.enrollment_id.in_(enrollment_ids)
        )
    )
    return {enrollment_id: cert_id for enrollment_id, cert_id in rows}


def _record(e: Enrollment, certificate_id: int | None) -> TrainingRecord:
    return TrainingRecord(
        id=e.id,
        user_id=e.user_id,
        user_email=e.user.email,
        user_name=e.user.name,
        course_id=e.course_id,
        course_code=e.course.code,
        course_title=e.course.title,
        cycle=e.cycle,
        source=e.source,
        status=e.status,
        due_date=e.due_date,
        created_at=e.created_at,
        started_at=e.started_at,
        completed_at=e.completed_at,
        score=e.score,
        certificate_id=certificate_id,
    )


def list_training_records(
    viewer: User, filters: RecordFilters, page: int = 1, per_page: int = 20
) -> Page:
    """A page of the training records (enrollments) `viewer` may read, in id order.

    HR/QA/admin read everyone's; anyone else their own and their direct reports'. Filtering on
    a person the viewer may not read raises Forbidden (NotFound for an unknown id, to those who
    read everyone), as `visible_user` does. Two or three queries (the count apart).
    """
    if filters.user_id is not None:
        visible_user(viewer, filters.user_id)
    found = paginate(_records_query(viewer, filters), page, per_page, count_apart=True)
    certs = _certificate_ids([e.id for e in found.items])
    found.items = [_record(e, certs.get(e.id)) for e in found.items]
    return found


def get_training_record(viewer: User, record_id: int) -> TrainingRecordDetail:
    """One training record with its results (quiz attempts, assignment grades).

    Raises NotFound (no such record), Forbidden (not the viewer's, their report's, or HR/QA/admin).
    """
    e = db.session.execute(
        select(Enrollment)
        .join(Enrollment.user)
        .join(Enrollment.course)
        .options(contains_eager(Enrollment.user), contains_eager(Enrollment.course))
        .where(Enrollment.id == record_id)
    ).scalar()
    if e is None:
        raise NotFound(f"Training record {record_id} does not exist.")
    if not can_view_user(viewer, e.user):
        raise Forbidden("You may not see this person's training records.")
    record = _record(e, _certificate_ids([e.id]).get(e.id))
    results = [line for _, line in _results(Result.enrollment_id == e.id)]
    return TrainingRecordDetail(record, results)
