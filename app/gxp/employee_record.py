"""The employee training record ("the accurate and complete copy an inspector asks for"), its
CSV export, and the training-records list behind /api/v1/training/records.

`employee_record()` gathers everything one person ever did in a fixed number of queries,
whatever the length of their history. Its checksum is the SHA-256 of the canonical JSON of the
record's content (everything but the moment it was generated), so a printed copy can be matched
to the data: the same data as of the same day always gives the same checksum.

The rows and the set-based reads behind the record are in app.gxp.employee_record_lines; this
module assembles one person's record from them, its checksum and CSV, and the training-records
list.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import contains_eager

from app.audit.models import ESignature
from app.audit.signatures import cite
from app.compliance.statuses import Scope, statuses
from app.extensions import db
from app.gxp.employee_record_lines import (
    AssignmentLine,
    CertificateLine,
    ComplianceLine,
    EnrollmentLine,
    PersonHeader,
    ResultLine,
    WaiverLine,
    certificate_lines,
    compliance_line,
    enrollment_lines,
    person_headers,
    result_lines,
    result_lines_where,
    signature_validity,
    waiver_and_assignment_lines,
)
from app.gxp.models import DocumentVersion
from app.learning.enrollments import can_view_user, visible_user
from app.learning.models import ENROLLMENT_STATUSES, Certification, Enrollment, Result
from app.learning.training_records import obligations
from app.people.models import User
from app.people.permissions import can
from app.platform import clock
from app.platform.csv_export import to_csv
from app.platform.errors import Forbidden, Invalid, NotFound
from app.platform.pagination import Page, paginate
from app.platform.timefmt import iso_utc

SIGNATURES_NONE = "Electronic signatures: none recorded"


# --- the record --------------------------------------------------------------------------------


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
    model of app.gxp.employee_record_lines, asked about one person (the inspection export asks
    it about batches).
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
        compliance=[compliance_line(r, requirements[r.requirement_id]) for r in compliance_rows],
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
    cited = cite(rows)
    return [
        {
            "name": r.printed_name,
            "meaning": r.meaning_label,
            "statement": r.statement,
            "record": cited[r.id],
            "at": f"{r.local_time} ({r.signed_at.strftime('%Y-%m-%d %H:%M:%S')} UTC)",
            "content_hash": r.content_hash,
            "status": {True: "valid", False: "signature invalid"}.get(valid.get(r.id), "n/a"),
        }
        for r in rows
    ]


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
    "document_version",
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
                "document_version": e.document_version,
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
    # An open record that serves a requirement: the requirement's status and validity (its
    # due_date is then the requirement's too: the one status derivation).
    requirement_status: str | None = None
    valid_until: date | None = None
    document_version: str | None = None


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


def _told(records: list[TrainingRecord]) -> list[TrainingRecord]:
    """Records with their document versions, and open records that serve a requirement told by
    its status (two queries for the page)."""
    if not records:
        return records
    found = obligations(sorted({r.user_id for r in records}))
    versions = dict(
        db.session.execute(
            select(Enrollment.id, DocumentVersion.version)
            .join(DocumentVersion, DocumentVersion.id == Enrollment.document_version_id)
            .where(Enrollment.id.in_([r.id for r in records]))
        ).all()
    )
    out = []
    for r in records:
        r = replace(r, document_version=versions.get(r.id))
        t = found.get(r.id)
        if t is not None:
            r = replace(
                r, due_date=t.due_date, requirement_status=t.status, valid_until=t.valid_until
            )
        out.append(r)
    return out


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
    found.items = _told([_record(e, certs.get(e.id)) for e in found.items])
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
    record = _told([_record(e, _certificate_ids([e.id]).get(e.id))])[0]
    results = [line for _, line in result_lines_where(Result.enrollment_id == e.id)]
    return TrainingRecordDetail(record, results)
