"""The files of an inspection export's ZIP: export.json (the scope, counts, people with their
records, and the audit entries) and its check against schemas/inspection-export.schema.json,
report.pdf (in the employee record PDF's style), records.csv, certificates.csv,
signatures.csv, audit.csv, and the archive itself with manifest.json (the SHA-256 of every
other file). Also what an export covers (`ExportScope`). app.gxp.inspection gathers the data
and runs the build.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from reportlab.platypus import Paragraph, Spacer

from app.audit.trail import json_cell
from app.config import ROOT
from app.extensions import db
from app.gxp import employee_record_pdf as pdf
from app.gxp.models import InspectionExport
from app.people.models import Department, User
from app.platform.csv_export import to_csv
from app.platform.release import VERSION
from app.platform.timefmt import iso_date, iso_utc

SCHEMA_PATH = ROOT / "schemas" / "inspection-export.schema.json"
FORMAT = "cadre.inspection-export"
FORMAT_VERSION = 1


# --- the scope and export.json --------------------------------------------------------------------


@dataclass(frozen=True)
class ExportScope:
    """Who and when an export covers; the filters combine, at least one is set."""

    user_id: int | None = None
    department_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def of(cls, export: InspectionExport) -> ExportScope:
        return cls(export.user_id, export.department_id, export.date_from, export.date_to)


@lru_cache(maxsize=1)
def export_schema() -> dict:
    """The JSON Schema of export.json shipped in schemas/."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate_export_document(document: dict) -> None:
    """Raise jsonschema.ValidationError (the most relevant one) when `document` does not match."""
    schema = export_schema()
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    error = best_match(validator.iter_errors(document))
    if error is not None:
        raise error


def user_ref(user: User | None) -> dict | None:
    return {"id": user.id, "name": user.name, "email": user.email} if user else None


def export_document(
    export: InspectionExport,
    scope: ExportScope,
    people: list[dict],
    audit: list[dict],
    now: datetime,
) -> dict:
    """export.json: the scope, counts, people with their records, and the audit entries."""
    department = db.session.get(Department, scope.department_id) if scope.department_id else None
    person = db.session.get(User, scope.user_id) if scope.user_id else None
    requester = db.session.get(User, export.requested_by_id) if export.requested_by_id else None

    def total(key: str) -> int:
        return sum(len(p[key]) for p in people)

    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "export": {
            "id": export.id,
            "generated_at": iso_utc(now),
            "application": {"name": "Cadre", "version": VERSION},
            "requested_by": user_ref(requester),
            "scope": {
                "person": user_ref(person),
                "department": {"id": department.id, "name": department.name}
                if department
                else None,
                "date_from": iso_date(scope.date_from),
                "date_to": iso_date(scope.date_to),
            },
        },
        "counts": {
            "people": len(people),
            "enrollments": total("enrollments"),
            "results": total("results"),
            "certificates": total("certificates"),
            "waivers": total("waivers"),
            "assignments": total("assignments"),
            "signatures": total("signatures"),
            "audit_entries": len(audit),
        },
        "people": people,
        "audit_entries": audit,
    }


# --- the files in the ZIP -------------------------------------------------------------------------

PERSON_COLUMNS = ["person_id", "person_email", "person_name"]
RECORD_COLUMNS = PERSON_COLUMNS + [
    "section",
    "id",
    "enrollment_id",
    "course_code",
    "course_title",
    "course_version",
    "cycle",
    "module",
    "kind",
    "attempt_no",
    "source",
    "status",
    "assigned_by",
    "created_at",
    "due_date",
    "started_at",
    "completed_at",
    "score",
    "max_score",
    "passed",
    "graded_by",
    "submitted_at",
    "graded_at",
    "certificate_id",
    "requirement",
    "reason",
    "starts_on",
    "ends_on",
    "requested_by",
    "requested_at",
    "decided_by",
    "decided_at",
    "decision_note",
]
AUDIT_CSV_COLUMNS = [
    "id",
    "at_utc",
    "person_id",
    "actor_id",
    "actor",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
    "reason",
    "request_id",
    "ip",
    "chain_seq",
    "prev_hash",
    "row_hash",
]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _person_cells(person: dict) -> dict:
    return {
        "person_id": person["id"],
        "person_email": person["email"],
        "person_name": person["name"],
    }


def records_csv(document: dict) -> str:
    """One row per enrollment, result, waiver and assignment; `section` tells them apart."""
    rows = []
    for person in document["people"]:
        who = _person_cells(person)
        for section, key in (
            ("enrollment", "enrollments"),
            ("result", "results"),
            ("waiver", "waivers"),
            ("assignment", "assignments"),
        ):
            for item in person[key]:
                row = {**who, **item, "section": section}
                if section == "result":
                    row["module"] = item["module_title"]
                rows.append([_cell(row.get(c)) for c in RECORD_COLUMNS])
    return to_csv(RECORD_COLUMNS, rows)


def _section_csv(document: dict, key: str, kind: str) -> str:
    columns = PERSON_COLUMNS + export_schema()["$defs"][kind]["required"]
    rows = [
        [_cell({**_person_cells(p), **item}.get(c)) for c in columns]
        for p in document["people"]
        for item in p[key]
    ]
    return to_csv(columns, rows)


def certificates_csv(document: dict) -> str:
    return _section_csv(document, "certificates", "certificate")


def signatures_csv(document: dict) -> str:
    return _section_csv(document, "signatures", "signature")


def audit_csv(document: dict) -> str:
    rows = [
        [
            e["id"],
            e["at"],
            _cell(e["person_id"]),
            _cell(e["actor_id"]),
            e["actor_label"],
            e["action"],
            e["entity"],
            e["entity_id"],
            json_cell(e["before"]),
            json_cell(e["after"]),
            _cell(e["reason"]),
            _cell(e["request_id"]),
            _cell(e["ip"]),
            _cell(e["chain_seq"]),
            _cell(e["prev_hash"]),
            _cell(e["row_hash"]),
        ]
        for e in document["audit_entries"]
    ]
    return to_csv(AUDIT_CSV_COLUMNS, rows)


def _when(value: str | None) -> str:
    """An ISO UTC time as shown in the PDF: 2025-03-14 09:30."""
    return value[:16].replace("T", " ") if value else ""


def _scope_lines(document: dict) -> list[tuple[str, str]]:
    scope = document["export"]["scope"]
    person, department = scope["person"], scope["department"]
    requester = document["export"]["requested_by"]
    return [
        ("Person", f"{person['name']} <{person['email']}>" if person else "any"),
        ("Department", department["name"] if department else "any"),
        ("From", scope["date_from"] or "the beginning"),
        ("To", scope["date_to"] or "today"),
        ("Requested by", f"{requester['name']} <{requester['email']}>" if requester else "system"),
        ("Generated at", f"{_when(document['export']['generated_at'])} UTC"),
    ]


def _person_story(person: dict) -> list:
    p = pdf.para
    facts = " · ".join(
        part
        for part in (
            person["department"],
            person["team"],
            person["job_role"],
            f"hired {person['hire_date']}" if person["hire_date"] else None,
            "active" if person["active"] else f"deactivated {_when(person['deactivated_at'])}",
        )
        if part
    )
    story = [
        Paragraph(escape(pdf.safe_text(f"{person['name']} <{person['email']}>")), pdf.H2),
        p(facts, pdf.NOTE),
    ]
    certificate_numbers = {c["id"]: c["number"] for c in person["certificates"]}
    tables = [
        (
            "Enrollments (every cycle)",
            pdf.table(
                ["Course", "Cycle", "Source", "Status", "Due", "Started", "Completed", "Score"]
                + ["Certificate"],
                [3.2, 0.6, 1, 1, 1, 1.3, 1.3, 0.7, 1.5],
                [
                    [
                        f"{e['course_code']} {e['course_title']}",
                        e["cycle"],
                        e["source"],
                        e["status"].replace("_", " "),
                        e["due_date"],
                        _when(e["started_at"]),
                        _when(e["completed_at"]),
                        pdf.score_text(e["score"]),
                        certificate_numbers.get(e["certificate_id"], ""),
                    ]
                    for e in person["enrollments"]
                ],
            ),
        ),
        (
            "Results (quiz attempts, assignment grades)",
            pdf.table(
                ["Course", "Cycle", "Module", "Attempt", "Score", "Passed", "Graded by", "Graded"],
                [3, 0.6, 2.4, 0.7, 1, 0.7, 1.6, 1.3],
                [
                    [
                        f"{r['course_code']} {r['course_title']}",
                        r["cycle"],
                        r["module_title"],
                        r["attempt_no"],
                        pdf.score_text(r["score"], r["max_score"]),
                        r["passed"],
                        r["graded_by"] or ("automatic" if r["status"] == "graded" else ""),
                        _when(r["graded_at"]),
                    ]
                    for r in person["results"]
                ],
            ),
        ),
        (
            "Certificates",
            pdf.table(
                ["Number", "Course", "Issued", "Expires", "Status", "Score", "Notes"],
                [1.6, 3, 1.3, 1.3, 0.9, 0.7, 3],
                [
                    [
                        c["number"],
                        f"{c['course_code']} {c['course_title']} (v{c['course_version']})",
                        _when(c["issued_at"]),
                        _when(c["expires_at"]) or "does not expire",
                        c["status"],
                        pdf.score_text(c["score"]),
                        "\n".join(
                            x
                            for x in (
                                c["revocation_reason"] and f"Revoked: {c['revocation_reason']}",
                                c["enrollment_id"] is None
                                and f"Issued by hand: {c['issue_reason'] or ''}",
                            )
                            if x
                        ),
                    ]
                    for c in person["certificates"]
                ],
            ),
        ),
        (
            "Waivers",
            pdf.table(
                ["Requirement", "Reason", "Status", "Period", "Decided by"],
                [3, 3, 0.9, 2, 2],
                [
                    [
                        w["requirement"],
                        w["reason"],
                        w["status"],
                        f"{w['starts_on']} to {w['ends_on']}",
                        w["decided_by"] or "",
                    ]
                    for w in person["waivers"]
                ],
            ),
        ),
        (
            "Electronic signatures",
            pdf.table(
                ["Printed name", "Meaning", "Statement", "Date/time (UTC)", "Local time", "Valid"],
                [1.8, 1.3, 4, 1.4, 1.8, 1],
                [
                    [
                        s["printed_name"],
                        s["meaning_label"],
                        s["statement"],
                        _when(s["signed_at"]),
                        s["local_time"],
                        {True: "valid", False: "signature invalid"}.get(s["valid"], "unchecked"),
                    ]
                    for s in person["signatures"]
                ],
            ),
        ),
    ]
    for title, body in tables:
        story += pdf.section(title, body)
    story.append(Spacer(0, 3))
    story.append(
        p(f"Audit entries about this person or their records: {person['audit_entry_count']}")
    )
    return story


def _counted(value: int, name: str) -> str:
    """3 enrollments, 1 enrollment, 1 person, 0 audit entries."""
    plural = name.replace("_", " ")
    singular = {"people": "person", "audit entries": "audit entry"}.get(plural, plural[:-1])
    return f"{value} {singular if value == 1 else plural}"


def render_report_pdf(document: dict) -> bytes:
    """report.pdf: the scope and counts, then each person's records, in the record PDF's style."""
    export = document["export"]
    story = pdf.report_head(
        _scope_lines(document),
        [
            ", ".join(_counted(value, name) for name, value in document["counts"].items()),
            "Times are UTC unless marked local. export.json holds the same data "
            f"(schema {SCHEMA_PATH.name}); manifest.json lists the SHA-256 of every file.",
        ],
    )
    if not document["people"]:
        story.append(pdf.para("Nobody is in the scope of this export.", pdf.NOTE))
    for person in document["people"]:
        story += _person_story(person)

    generated = f"Generated at {_when(export['generated_at'])} UTC"

    def details(canvas, top: float) -> None:
        canvas.setFillColor(pdf.MUTED)
        canvas.setFont("Helvetica", 8)
        canvas.drawString(pdf.MARGIN, top - 12, generated)

    title = f"Inspection export #{export['id']}"
    return pdf.render_pdf(
        story, heading=title, footer="Cadre inspection export", title=title, details=details
    )


@dataclass
class _Archive:
    """Files added in order, each with its SHA-256 for the manifest."""

    moment: datetime
    buf: io.BytesIO = field(default_factory=io.BytesIO)
    entries: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.zip = zipfile.ZipFile(self.buf, "w", zipfile.ZIP_DEFLATED)

    def add(self, name: str, data: bytes, in_manifest: bool = True) -> None:
        info = zipfile.ZipInfo(name, date_time=self.moment.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        self.zip.writestr(info, data)
        if in_manifest:
            sha = hashlib.sha256(data).hexdigest()
            self.entries.append({"name": name, "bytes": len(data), "sha256": sha})

    def close(self) -> bytes:
        self.zip.close()
        return self.buf.getvalue()


def build_archive(document: dict, now: datetime) -> bytes:
    """The ZIP: report.pdf, the CSVs, export.json, its schema and manifest.json."""
    archive = _Archive(now)
    archive.add("report.pdf", render_report_pdf(document))
    for name, text in (
        ("records.csv", records_csv(document)),
        ("certificates.csv", certificates_csv(document)),
        ("signatures.csv", signatures_csv(document)),
        ("audit.csv", audit_csv(document)),
    ):
        archive.add(name, text.encode("utf-8"))
    body = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)
    archive.add("export.json", body.encode("utf-8"))
    archive.add(SCHEMA_PATH.name, SCHEMA_PATH.read_bytes())
    manifest = {
        "format": f"{FORMAT}.manifest",
        "export_id": document["export"]["id"],
        "generated_at": document["export"]["generated_at"],
        "algorithm": "SHA-256",
        "files": archive.entries,
    }
    archive.add("manifest.json", json.dumps(manifest, indent=2).encode("utf-8"), False)
    return archive.close()
