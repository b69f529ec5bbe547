"""Inspection exports: a ZIP of training records an inspector can trust, for one person, a
department or a date range (any combination).

`request_export()` records the request (audited) and enqueues the job, which calls
`build_export()`: it gathers the people in scope batch by batch (a fixed number of set-based
queries per batch, whatever the history), commits its progress after each batch, checks
export.json against schemas/inspection-export.schema.json and only then stores the ZIP and
marks the export done. A build that fails is marked failed with the error and keeps no file.

The ZIP holds report.pdf (human-readable), records.csv, certificates.csv, signatures.csv,
audit.csv, export.json (machine-readable, the same data), the schema, and manifest.json (the
SHA-256 of every other file).

What the scope means:
- a person or a department names its people (whether or not they have records in the dates);
  dates alone name everyone with a record or a signature in them;
- dates filter the records: enrollments by completion (else creation) day, certificates by
  issue day, waivers by overlap with the period, assignments by creation, signatures the
  person gave by signing day. Results follow their enrollment;
- the audit entries are every entry about the exported records (their whole history) and the
  entries about the people themselves (user, role grants) within the dates.

The ZIP's files and export.json's schema are built by app.gxp.inspection_build; this module
holds the requests, their listing and download, the build job with its progress, and the
set-based gathering of the records.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from jsonschema import ValidationError
from sqlalchemy import select, union
from sqlalchemy.orm import joinedload

from app.audit.chain import CHAINED_COLUMNS
from app.audit.models import ESignature
from app.compliance.models import TrainingAssignment, Waiver
from app.extensions import db
from app.gxp import employee_record as er
from app.gxp import employee_record_lines as record_lines
from app.gxp.inspection_build import (
    SCHEMA_PATH,
    ExportScope,
    build_archive,
    export_document,
    export_schema,
    validate_export_document,
)
from app.gxp.models import InspectionExport
from app.learning.models import Certification, Enrollment, Progress
from app.people.models import Department, User
from app.people.users import find_user_by_email
from app.platform import clock
from app.platform.audit import AuditLog, read_back, record_audit, snapshot
from app.platform.errors import Conflict, Invalid, NotFound
from app.platform.files import CheckedUpload, download_url, save_checked_upload
from app.platform.inputs import to_date, to_id, to_text
from app.platform.pagination import Page, paginate

log = logging.getLogger("cadre.inspection")

BATCH_SIZE = 200  # people per batch: one progress step and one commit each
IN_CHUNK = 900  # ids per IN (...) list, well under SQLite's and PostgreSQL's parameter limits
PENDING = ("queued", "running")
EXPORT_FIELDS = ["requested_by_id", "user_id", "department_id", "date_from", "date_to", "status"]

# Audit entity names behind each kind of exported record (aliases other modules may use).
RECORD_ENTITIES: dict[str, tuple[str, ...]] = {
    "enrollment": ("enrollment",),
    "progress": ("progress",),
    "result": ("result",),
    "certification": ("certification", "certificate"),
    "waiver": ("waiver",),
    "assignment": ("assignment", "training_assignment"),
    "e_signature": ("e_signature", "signature", "esignature"),
}
PERSON_ENTITIES = ("user", "user_role")
# Kind of exported record -> (the person's list in export.json, its object in the schema).
SECTIONS = {
    "enrollment": ("enrollments", "enrollment"),
    "result": ("results", "result"),
    "certification": ("certificates", "certificate"),
    "waiver": ("waivers", "waiver"),
    "assignment": ("assignments", "assignment"),
}


# --- requesting and listing ---------------------------------------------------------------------


def parse_export_request(data: Mapping[str, Any]) -> ExportScope:
    """Read what to export: `person` (email) or `user_id`, `department_id`, `date_from`,
    `date_to`. Raises Invalid with field errors (`scope` when nothing was chosen)."""
    errors: dict[str, list[str]] = {}
    email = to_text(errors, "person", data.get("person"), 254)
    user_id = to_id(errors, "user_id", data.get("user_id"))
    department_id = to_id(errors, "department_id", data.get("department_id"))
    date_from = to_date(errors, "date_from", data.get("date_from"))
    date_to = to_date(errors, "date_to", data.get("date_to"))
    if user_id is not None:
        if db.session.get(User, user_id) is None:
            errors["user_id"] = ["Nobody has this id."]
    elif email and "person" not in errors:
        person = find_user_by_email(email)
        if person is None:
            errors["person"] = ["Nobody has this email address."]
        else:
            user_id = person.id
    if department_id is not None and db.session.get(Department, department_id) is None:
        errors["department_id"] = ["No such department."]
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = ["Must not be before the start date."]
    if not errors and not any(v is not None for v in (user_id, department_id, date_from, date_to)):
        errors["scope"] = ["Choose a person, a department or a date range (or a combination)."]
    if errors:
        raise Invalid("The export request is not valid.", errors)
    return ExportScope(user_id, department_id, date_from, date_to)


def request_export(data: Mapping[str, Any], actor: User) -> InspectionExport:
    """Record an export request (audited) and enqueue its build. Raises Invalid."""
    from app.platform.jobs import enqueue

    scope = parse_export_request(data)
    export = InspectionExport(
        requested_by_id=actor.id,
        user_id=scope.user_id,
        department_id=scope.department_id,
        date_from=scope.date_from,
        date_to=scope.date_to,
        status="queued",
        progress=0,
        total=0,
    )
    db.session.add(export)
    db.session.flush()
    record_audit(
        "create",
        "inspection_export",
        export.id,
        after=snapshot(read_back(export), EXPORT_FIELDS),
        actor=actor,
    )
    db.session.commit()
    export_id = export.id
    enqueue("inspection.build_export", export_id, queue="default")
    return get_export(export_id)


def _exports():
    """Exports with who asked, the scope's person and department, and the file loaded."""
    return select(InspectionExport).options(
        joinedload(InspectionExport.requested_by),
        joinedload(InspectionExport.user),
        joinedload(InspectionExport.department),
        joinedload(InspectionExport.file),
    )


def get_export(export_id: int) -> InspectionExport:
    """One export with who asked and its scope. Raises NotFound."""
    export = db.session.scalar(_exports().where(InspectionExport.id == export_id))
    if export is None:
        raise NotFound(f"Inspection export {export_id} does not exist.")
    return export


def list_exports(page: int = 1, per_page: int = 20) -> Page:
    """A page of exports, newest first, with requester, scope and file loaded (one query)."""
    return paginate(_exports().order_by(InspectionExport.id.desc()), page, per_page)


def any_pending(exports: list[InspectionExport]) -> bool:
    """True while one of `exports` is queued or running (the list keeps polling)."""
    return any(e.status in PENDING for e in exports)


def export_download_url(export_id: int, actor: User) -> str:
    """Audit the download of a finished export and return a short-lived link to its ZIP.

    Raises NotFound, Conflict (not finished, or failed).
    """
    export = get_export(export_id)
    if export.status != "done" or export.file is None:
        raise Conflict("This export has no file to download (it is not finished, or it failed).")
    record_audit(
        "download",
        "inspection_export",
        export.id,
        after={"file_id": export.file.id, "sha256": export.file.checksum},
        actor=actor,
    )
    db.session.commit()
    return download_url(export.file)


# --- building (the job) ---------------------------------------------------------------------------


def build_export(export_id: int) -> str:
    """Build the ZIP of an export, batch by batch with progress; return the final status.

    Idempotent: a finished export is left alone, a queued, running or failed one is (re)built.
    Never leaves a file on an export that is not done; a failure keeps its error text.
    """
    export = db.session.get(InspectionExport, export_id)
    if export is None:
        raise NotFound(f"Inspection export {export_id} does not exist.")
    if export.status == "done":
        return "done"
    try:
        _build(export)
    except Exception as exc:  # any failure ends the export as failed, with its reason
        db.session.rollback()
        log.exception("inspection export %s failed", export_id)
        _mark_failed(export_id, _describe_error(exc))
        return "failed"
    return "done"


def _change(export: InspectionExport, extra: dict | None = None, **changes) -> None:
    """Move the export on (status, error, file, finished_at) with its audit row."""
    before, after = {}, {}
    for name, value in changes.items():
        old = getattr(export, name)
        if old != value:
            before[name], after[name] = old, value
            setattr(export, name, value)
    if after:
        record_audit(
            "update",
            "inspection_export",
            export.id,
            before=er.jsonable(before),
            after=er.jsonable({**after, **(extra or {})}),
        )


def _build(export: InspectionExport) -> None:
    scope = ExportScope.of(export)
    _change(export, status="running", error=None, file_id=None, finished_at=None)
    people_ids = people_in_scope(scope)
    export.progress, export.total = 0, len(people_ids)
    db.session.commit()

    now = clock.now()
    people: list[dict] = []
    audit: dict[int, dict] = {}
    for batch in _chunks(people_ids, BATCH_SIZE):
        batch_people, batch_audit = collect_batch(batch, scope, now)
        people.extend(batch_people)
        audit.update(batch_audit)
        export.progress = export.progress + len(batch)
        db.session.commit()  # progress is visible to the list page after every batch

    document = export_document(export, scope, people, [audit[k] for k in sorted(audit)], now)
    validate_export_document(document)
    archive = build_archive(document, now)
    name = f"inspection-export-{export.id}-{now:%Y%m%d-%H%M%S}.zip"
    stored = save_checked_upload(
        CheckedUpload(
            filename=name,
            content_type="application/zip",
            data=archive,
            checksum=hashlib.sha256(archive).hexdigest(),
        )
    )
    # The file and "done" land in one commit: nothing half-written ever claims to be done.
    export.progress = export.total
    _change(
        export,
        {"sha256": stored.checksum},
        status="done",
        file_id=stored.id,
        finished_at=clock.now(),
    )
    db.session.commit()


def _mark_failed(export_id: int, error: str) -> None:
    export = db.session.get(InspectionExport, export_id)
    _change(export, status="failed", error=error, file_id=None, finished_at=clock.now())
    db.session.commit()


def _describe_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        where = "/".join(str(p) for p in exc.absolute_path) or "top level"
        text = f"export.json does not match {SCHEMA_PATH.name}: {exc.message} (at {where})"
    else:
        text = f"{type(exc).__name__}: {exc}"
    return text[:2000]


# --- gathering, set-based per batch of people -----------------------------------------------------


def _chunks(values: list, size: int) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _in_days(column, scope: ExportScope) -> list:
    """Conditions keeping a timestamp column within the scope's days (UTC, inclusive)."""
    return er.within_days(column, scope.date_from, scope.date_to)


def _waiver_overlaps(scope: ExportScope) -> list:
    conditions = []
    if scope.date_from is not None:
        conditions.append(Waiver.ends_on >= scope.date_from)
    if scope.date_to is not None:
        conditions.append(Waiver.starts_on <= scope.date_to)
    return conditions


def people_in_scope(scope: ExportScope) -> list[int]:
    """Ids of the people an export covers, in id order (one query)."""
    query = select(User.id).order_by(User.id)
    if scope.user_id is not None:
        query = query.where(User.id == scope.user_id)
    if scope.department_id is not None:
        query = query.where(User.department_id == scope.department_id)
    if scope.user_id is None and scope.department_id is None:
        active = union(
            select(Enrollment.user_id.label("uid")).where(*_in_days(er.record_moment(), scope)),
            select(Certification.user_id).where(*_in_days(Certification.issued_at, scope)),
            select(ESignature.user_id).where(*_in_days(ESignature.signed_at, scope)),
            select(Waiver.user_id).where(*_waiver_overlaps(scope)),
            select(TrainingAssignment.user_id).where(
                *_in_days(TrainingAssignment.created_at, scope)
            ),
        ).subquery()
        query = query.where(User.id.in_(select(active.c.uid)))
    return list(db.session.scalars(query))


def _shape(line: Any, kind: str) -> dict:
    """A read-model row as the schema's `kind` object: exactly the schema's keys, JSON values."""
    values = asdict(line) if not isinstance(line, dict) else line
    keys = export_schema()["$defs"][kind]["required"]
    return er.jsonable({key: values[key] for key in keys})


def _people(user_ids: list[int]) -> dict[int, dict]:
    """Each person's header as JSON, with empty lists for their records."""
    out = {}
    for uid, header in record_lines.person_headers(user_ids).items():
        person = asdict(header)
        manager = {key: person.pop(f"manager_{key}") for key in ("id", "name", "email")}
        out[uid] = er.jsonable(
            {
                **person,
                "manager": manager if manager["id"] else None,
                "enrollments": [],
                "results": [],
                "certificates": [],
                "waivers": [],
                "assignments": [],
                "signatures": [],
                "audit_entry_count": 0,
            }
        )
    return out


def _progress_owners(enrollment_owner: dict[str, int]) -> dict[str, int]:
    """Progress row id -> person, for the audit entries of module progress."""
    out: dict[str, int] = {}
    for chunk in _chunks([int(i) for i in enrollment_owner], IN_CHUNK):
        rows = db.session.execute(
            select(Progress.id, Progress.enrollment_id).where(Progress.enrollment_id.in_(chunk))
        )
        for progress_id, enrollment_id in rows:
            out[str(progress_id)] = enrollment_owner[str(enrollment_id)]
    return out


def _signature_json(sig: ESignature, valid: bool | None) -> dict:
    return _shape(
        {
            "id": sig.id,
            "signer_id": sig.user_id,
            "printed_name": sig.printed_name,
            "meaning": sig.meaning,
            "meaning_label": sig.meaning_label,
            "statement": sig.statement,
            "entity": sig.entity,
            "entity_id": sig.entity_id,
            "signed_at": sig.signed_at,
            "timezone": sig.timezone,
            "local_time": sig.local_time,
            "content_hash": sig.content_hash,
            "reason": sig.reason,
            "valid": valid,
        },
        "signature",
    )


def _signatures(
    user_ids: list[int], scope: ExportScope, owners: dict[str, dict[str, int]]
) -> list[tuple[int, dict]]:
    """Signatures the people gave (within the dates) and every signature on their exported
    records; each belongs to the record's owner, else to the signer."""
    found: dict[int, ESignature] = {}
    given = select(ESignature).where(
        ESignature.user_id.in_(user_ids), *_in_days(ESignature.signed_at, scope)
    )
    for sig in db.session.scalars(given):
        found[sig.id] = sig
    for kind, names in RECORD_ENTITIES.items():
        for chunk in _chunks(list(owners.get(kind, {})), IN_CHUNK):
            on_records = select(ESignature).where(
                ESignature.entity.in_(names), ESignature.entity_id.in_(chunk)
            )
            for sig in db.session.scalars(on_records):
                found[sig.id] = sig
    ordered = sorted(found.values(), key=lambda s: (s.signed_at, s.id))
    valid: dict[int, bool | None] = {}
    for chunk in _chunks(ordered, IN_CHUNK):
        valid.update(record_lines.signature_validity(chunk))
    record_owner = {
        name: owners.get(kind, {}) for kind, names in RECORD_ENTITIES.items() for name in names
    }
    out = []
    for sig in ordered:
        owner = record_owner.get(sig.entity, {}).get(sig.entity_id, sig.user_id)
        out.append((owner, _signature_json(sig, valid.get(sig.id))))
    return out


def _audit_json(row, person_id: int | None) -> dict:
    values = dict(row._mapping)
    values["person_id"] = person_id
    return _shape(values, "auditEntry")


def _audit(
    user_ids: list[int],
    scope: ExportScope,
    owners: dict[str, dict[str, int]],
    signatures: list[tuple[int, dict]],
) -> dict[int, dict]:
    """The audit entries behind the batch's records and about its people, by id."""
    out: dict[int, dict] = {}
    for kind, names in RECORD_ENTITIES.items():
        owner = owners.get(kind, {})
        for chunk in _chunks(list(owner), IN_CHUNK):
            rows = db.session.execute(
                select(*CHAINED_COLUMNS).where(
                    AuditLog.entity.in_(names), AuditLog.entity_id.in_(chunk)
                )
            )
            for row in rows:
                out[row.id] = _audit_json(row, owner[row.entity_id])
    people = select(*CHAINED_COLUMNS).where(
        AuditLog.entity.in_(PERSON_ENTITIES),
        AuditLog.entity_id.in_([str(i) for i in user_ids]),
        *_in_days(AuditLog.at, scope),
    )
    for row in db.session.execute(people):
        out[row.id] = _audit_json(row, int(row.entity_id))
    # The "sign" entries of signatures on records outside the export (e.g. a document version).
    recorded = {name for names in RECORD_ENTITIES.values() for name in names}
    signed: dict[str, dict[tuple[str, int], int]] = defaultdict(dict)
    for owner, sig in signatures:
        if sig["entity"] not in recorded:
            signed[sig["entity"]][(sig["entity_id"], sig["signer_id"])] = owner
    for entity, pairs in signed.items():
        entity_ids = sorted({entity_id for entity_id, _ in pairs})
        signers = sorted({signer for _, signer in pairs})
        for chunk in _chunks(entity_ids, IN_CHUNK):
            rows = db.session.execute(
                select(*CHAINED_COLUMNS).where(
                    AuditLog.entity == entity,
                    AuditLog.action == "sign",
                    AuditLog.entity_id.in_(chunk),
                    AuditLog.actor_id.in_(signers),
                )
            )
            for row in rows:
                owner = pairs.get((row.entity_id, row.actor_id))
                if owner is not None:
                    out[row.id] = _audit_json(row, owner)
    return out


def collect_batch(
    user_ids: list[int], scope: ExportScope, now: datetime
) -> tuple[list[dict], dict[int, dict]]:
    """Everything the export holds about a batch of people: (people as JSON, audit by id).

    About a dozen queries per batch whatever the size of the histories (more only when one
    batch has over IN_CHUNK records of a kind).
    """
    people = _people(user_ids)
    owners: dict[str, dict[str, int]] = defaultdict(dict)
    # Results follow their enrollment: the same day filter, on the enrollment.
    enrolled = _in_days(er.record_moment(), scope)
    waivers, assignments, _ = record_lines.waiver_and_assignment_lines(
        user_ids,
        waivers_where=_waiver_overlaps(scope),
        assignments_where=_in_days(TrainingAssignment.created_at, scope),
    )
    found = {
        "enrollment": record_lines.enrollment_lines(user_ids, *enrolled),
        "result": record_lines.result_lines(user_ids, *enrolled),
        "certification": record_lines.certificate_lines(
            user_ids, now, *_in_days(Certification.issued_at, scope)
        ),
        "waiver": waivers,
        "assignment": assignments,
    }
    for kind, lines in found.items():
        key, schema_kind = SECTIONS[kind]
        for uid, line in lines:
            people[uid][key].append(_shape(line, schema_kind))
            owners[kind][str(line.id)] = uid
    owners["progress"] = _progress_owners(owners["enrollment"])

    signatures = _signatures(user_ids, scope, owners)
    for uid, sig in signatures:
        if uid in people:
            people[uid]["signatures"].append(sig)
        owners["e_signature"][str(sig["id"])] = uid
    audit = _audit(user_ids, scope, owners, signatures)
    for entry in audit.values():
        if entry["person_id"] in people:
            people[entry["person_id"]]["audit_entry_count"] += 1
    return [people[uid] for uid in sorted(people)], audit
