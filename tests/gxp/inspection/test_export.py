"""The inspection export job: what the ZIP holds, the scopes, progress, and failure."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import timedelta

import jsonschema
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from app.audit.models import ESignature
from app.audit.signatures import sign
from app.config import ROOT
from app.extensions import db
from app.gxp import inspection as svc
from app.gxp import inspection_build as build
from app.gxp.models import InspectionExport
from app.learning.models import Enrollment
from app.platform import clock
from app.platform.errors import Invalid
from app.platform.files import StoredFile
from tests.gxp.inspection.conftest import built, export_document, export_zip
from tests.gxp.records.conftest import completed
from tests.helpers.records import audit_rows
from tests.learning.factories import CourseFactory
from tests.people.factories import DepartmentFactory, UserFactory

FILES = {
    "report.pdf",
    "records.csv",
    "certificates.csv",
    "signatures.csv",
    "audit.csv",
    "export.json",
    "inspection-export.schema.json",
    "manifest.json",
}


def _schema() -> dict:
    return json.loads((ROOT / "schemas" / "inspection-export.schema.json").read_text())


def _csv(archive, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))


@pytest.fixture
def signed(history):
    """The person signs their latest cycle; a trainer signs off the person's waiver."""
    h = history
    sign(
        signer=h.person,
        password="password",
        meaning="read_understood",
        entity="enrollment",
        entity_id=h.cycle2.id,
        statement="I have read and understood GMP-101 version 1",
        content={"enrollment": h.cycle2.id},
    )
    trainer = UserFactory(roles=["trainer"], name="Tess Trainer", timezone="Europe/Zurich")
    sign(
        signer=trainer,
        password="password",
        meaning="reviewed",
        entity="waiver",
        entity_id=h.waiver.id,
        statement="Evidence reviewed",
        content={"waiver": h.waiver.id},
    )
    h.waiver.reason = "=HYPERLINK('http://evil')"  # a spreadsheet formula in a free-text field
    db.session.commit()
    return h


def test_person_export_holds_every_record_and_validates(app, signed):
    h = signed
    export = built(app, {"person": "ada.lovelace@example.com"}, h.qa)

    assert (export.status, export.progress, export.total, export.error) == ("done", 1, 1, None)
    assert export.finished_at is not None and export.file.content_type == "application/zip"
    archive = export_zip(export)
    assert set(archive.namelist()) == FILES

    doc = json.loads(archive.read("export.json"))
    validator = jsonschema.Draft202012Validator(_schema())
    assert list(validator.iter_errors(doc)) == []
    assert doc["export"]["scope"]["person"]["email"] == "ada.lovelace@example.com"
    assert doc["export"]["requested_by"]["id"] == h.qa.id
    [person] = doc["people"]
    assert person["name"] == "Ada Lovelace" and person["department"] == "Sterile Manufacturing"
    assert [(e["id"], e["cycle"], e["status"], e["score"]) for e in person["enrollments"]] == [
        (h.cycle1.id, 1, "completed", 81),
        (h.cycle2.id, 2, "completed", 95),
    ]
    assert [r["id"] for r in person["results"]] == [h.result.id]
    certificates = {c["id"]: c for c in person["certificates"]}
    assert certificates[h.revoked.id]["status"] == "revoked"
    assert certificates[h.revoked.id]["revocation_reason"] == "Issued against the wrong SOP version"
    assert certificates[h.active.id]["status"] == "active"
    assert [w["id"] for w in person["waivers"]] == [h.waiver.id]
    assert [a["id"] for a in person["assignments"]] == [h.assignment.id]
    signatures = {s["printed_name"]: s for s in person["signatures"]}
    assert set(signatures) == {"Ada Lovelace", "Tess Trainer"}
    assert signatures["Ada Lovelace"]["meaning_label"] == "Read and understood"
    assert signatures["Tess Trainer"]["entity"] == "waiver"
    assert signatures["Tess Trainer"]["timezone"] == "Europe/Zurich"

    # The audit entries behind those records: enrollment, certificate issue and revocation, signing.
    entries = doc["audit_entries"]
    assert person["audit_entry_count"] == len(entries) == doc["counts"]["audit_entries"]
    keys = {(e["entity"], e["entity_id"], e["action"]) for e in entries}
    assert ("certification", str(h.revoked.id), "update") in keys
    assert ("enrollment", str(h.cycle2.id), "sign") in keys
    assert ("waiver", str(h.waiver.id), "sign") in keys
    assert all(e["person_id"] == h.person.id for e in entries)

    # The CSVs carry the same rows, spreadsheet-safe; the manifest hashes every other file.
    records = _csv(archive, "records.csv")
    assert [r["section"] for r in records].count("enrollment") == 2
    [waiver_row] = [r for r in records if r["section"] == "waiver"]
    assert waiver_row["reason"].startswith("'=")
    assert {r["number"] for r in _csv(archive, "certificates.csv")} == {
        h.revoked.number,
        h.active.number,
    }
    assert {r["printed_name"] for r in _csv(archive, "signatures.csv")} == set(signatures)
    assert {int(r["id"]) for r in _csv(archive, "audit.csv")} == {e["id"] for e in entries}
    manifest = json.loads(archive.read("manifest.json"))
    assert {f["name"] for f in manifest["files"]} == FILES - {"manifest.json"}
    for f in manifest["files"]:
        assert hashlib.sha256(archive.read(f["name"])).hexdigest() == f["sha256"]

    text = "".join(
        page.extract_text() for page in PdfReader(io.BytesIO(archive.read("report.pdf"))).pages
    )
    for expected in (
        "Inspection export",
        "Ada Lovelace",
        "GMP-101",
        "Tess Trainer",
        "Evidence reviewed",
    ):
        assert expected in text, expected

    # Requesting and finishing the export are both in the audit trail.
    rows = audit_rows("inspection_export", export.id)
    assert [(a.action, (a.after or {}).get("status")) for a in rows] == [
        ("create", "queued"),
        ("update", "running"),
        ("update", "done"),
    ]
    assert rows[-1].after["sha256"] == export.file.checksum


def test_department_and_date_scopes(app, history):
    h = history
    dept = h.person.department
    other_dept = DepartmentFactory(name="Packaging")
    course = CourseFactory(code="SAF-1", title="Safety")
    recent = UserFactory(name="Rita Recent", department=dept)
    completed(recent, course, days_ago=3, cycle=1, score=90)
    completed(recent, course, days_ago=200, cycle=2, score=70)  # outside the dates
    idle = UserFactory(name="Ivan Idle", department=dept)  # no records at all
    outsider = UserFactory(name="Olga Outside", department=other_dept)
    completed(outsider, course, days_ago=2, cycle=1, score=99)
    completed(UserFactory(name="Otto Old", department=other_dept), course, 300, 1, 60)
    ten_days_ago = (clock.now() - timedelta(days=10)).date().isoformat()

    by_dept = export_document(built(app, {"department_id": dept.id}, h.qa))
    names = [p["name"] for p in by_dept["people"]]
    assert names == ["Ada Lovelace", "Rita Recent", "Ivan Idle"]  # id order; nobody from Packaging
    assert by_dept["export"]["scope"]["department"]["name"] == "Sterile Manufacturing"

    by_dates = export_document(built(app, {"date_from": ten_days_ago}, h.qa))
    people = {p["name"]: p for p in by_dates["people"]}
    # Ada is in (her waiver runs through the dates), Ivan and Otto have nothing in them.
    assert set(people) == {"Ada Lovelace", "Rita Recent", "Olga Outside"}
    assert [e["cycle"] for e in people["Rita Recent"]["enrollments"]] == [1]
    assert people["Ada Lovelace"]["enrollments"] == []  # completed 20 and 500 days ago
    assert [w["id"] for w in people["Ada Lovelace"]["waivers"]] == [h.waiver.id]

    both = export_document(built(app, {"department_id": dept.id, "date_from": ten_days_ago}, h.qa))
    people = {p["name"]: p for p in both["people"]}
    assert set(people) == {"Ada Lovelace", "Rita Recent", "Ivan Idle"}
    assert (
        people["Ada Lovelace"]["enrollments"] == [] and people["Ada Lovelace"]["certificates"] == []
    )
    assert len(people["Rita Recent"]["enrollments"]) == 1
    assert idle.id in {p["id"] for p in both["people"]}


def test_progress_is_committed_per_batch_and_reaches_the_total(app, monkeypatch):
    qa = UserFactory(roles=["qa"])
    dept = DepartmentFactory()
    for _ in range(5):
        UserFactory(department=dept)
    monkeypatch.setattr(svc, "BATCH_SIZE", 2)
    seen = []
    real = svc.collect_batch

    def spy(user_ids, scope, now):
        # What another connection would see: the progress committed so far.
        seen.append(db.session.scalar(select(InspectionExport.progress)))
        return real(user_ids, scope, now)

    monkeypatch.setattr(svc, "collect_batch", spy)
    export = built(app, {"department_id": dept.id}, qa)
    assert seen == [0, 2, 4]
    assert (export.status, export.progress, export.total) == ("done", 5, 5)
    assert len(export_document(export)["people"]) == 5


@pytest.mark.parametrize("breakage", ["pdf", "schema"])
def test_a_failing_build_ends_failed_with_its_error_and_no_file(
    app, history, monkeypatch, breakage
):
    if breakage == "pdf":

        def broken(document):
            raise RuntimeError("the PDF renderer ran out of memory")

        monkeypatch.setattr(build, "render_report_pdf", broken)
        expected = "RuntimeError: the PDF renderer ran out of memory"
    else:
        real = svc.export_document

        def broken(*args):
            document = real(*args)
            document["people"][0]["enrollments"][0]["score"] = "ninety"
            return document

        monkeypatch.setattr(svc, "export_document", broken)
        expected = "export.json does not match inspection-export.schema.json"

    export = built(app, {"person": history.person.email}, history.qa)

    assert export.status == "failed" and expected in export.error
    assert export.file_id is None and export.finished_at is not None
    zips = select(func.count()).where(StoredFile.content_type == "application/zip")
    assert db.session.scalar(zips) == 0  # certificate PDFs only
    updates = audit_rows("inspection_export", export.id, "update")
    assert [a.after["status"] for a in updates] == ["running", "failed"]
    assert updates[-1].after["error"] == export.error


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "scope"),
        ({"person": "nobody@example.com"}, "person"),
        ({"department_id": "999"}, "department_id"),
        ({"date_from": "2025-02-01", "date_to": "2025-01-01"}, "date_to"),
        ({"date_from": "yesterday"}, "date_from"),
    ],
)
def test_bad_requests_are_refused_and_write_nothing(app, data, field):
    qa = UserFactory(roles=["qa"])
    with pytest.raises(Invalid) as caught:
        svc.request_export(data, qa)
    assert field in caught.value.errors
    assert db.session.scalar(select(func.count()).select_from(InspectionExport)) == 0


def test_dates_alone_name_only_people_with_records_in_them(app):
    course = CourseFactory()
    old = UserFactory()
    db.session.add(
        Enrollment(user_id=old.id, course_id=course.id, created_at=clock.now() - timedelta(days=90))
    )
    db.session.commit()
    scope = svc.ExportScope(date_from=clock.today() - timedelta(days=30))
    assert svc.people_in_scope(scope) == []
    assert svc.people_in_scope(svc.ExportScope(date_to=clock.today())) == [old.id]


def test_gathering_a_batch_takes_the_same_queries_for_2_or_8_people(app, count_queries):
    course = CourseFactory()
    dept = DepartmentFactory()

    def person():
        someone = UserFactory(department=dept)
        enrollment = completed(someone, course, days_ago=5, cycle=1, score=90)
        db.session.add(
            ESignature(
                user_id=someone.id,
                printed_name=someone.name,
                meaning="read_understood",
                statement="Read",
                entity="enrollment",
                entity_id=str(enrollment.id),
                content_hash="0" * 64,
                local_time="now",
            )
        )
        db.session.commit()
        return someone.id

    few = [person() for _ in range(2)]
    many = few + [person() for _ in range(6)]
    scope = svc.ExportScope(department_id=dept.id)
    with count_queries() as small:
        svc.collect_batch(few, scope, clock.now())
    with count_queries() as large:
        people, _ = svc.collect_batch(many, scope, clock.now())
    assert len(large) == len(small)
    assert [len(p["signatures"]) for p in people] == [1] * 8
