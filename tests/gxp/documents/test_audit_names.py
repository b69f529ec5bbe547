"""The audit trail and signatures read to an auditor: records and fields by label and name
(resolved in bulk), raw values one click away, system-generated entries can be hidden (page,
HTMX, CSV), and every signature cites what was signed by name and version."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from app.audit.models import ESignature
from app.audit.signatures import cite
from app.extensions import db
from app.gxp.read_and_understand import sign_read_and_understood
from app.platform.audit import AuditLog, record_audit
from tests.conftest import csrf
from tests.gxp.documents.conftest import (
    PASSWORD,
    V1_TEXT,
    V2_TEXT,
    classify,
    effective,
    new_document,
    upload,
)
from tests.helpers.jobs import run_queued_jobs
from tests.learning.factories import CourseFactory, EnrollmentFactory
from tests.people.factories import UserFactory


def _engine_rows(n: int, course, people) -> None:
    """Enrollment rows as a bulk engine run writes them: no actor, no request."""
    for i in range(n):
        person = people[i % len(people)]
        e = EnrollmentFactory(user=person, course=course, cycle=1 + i // len(people))
        record_audit(
            "create",
            "enrollment",
            e.id,
            after={
                "anchor_date": None,
                "course_id": course.id,
                "user_id": person.id,
                "due_date": "2026-12-01",
                "status": "assigned",
            },
            reason="requirement engine: nightly",
        )
    db.session.commit()


def _cells(page: str, entity: str, entity_id) -> str:
    return page.split(f'href="/audit/history/{entity}/{entity_id}"', 1)[1].split("</tr>", 1)[0]


def test_rows_name_the_record_and_label_the_fields_with_raw_values_behind(client, auth, org):
    anna = UserFactory(name="Anna Keller")
    gmp = CourseFactory(code="GMP-101", title="Good Manufacturing Practice")
    _engine_rows(1, gmp, [anna])
    enrollment_id = db.session.scalar(
        select(AuditLog.entity_id).where(AuditLog.entity == "enrollment")
    )
    auth.login(org.qa)
    page = client.get("/audit/").get_data(as_text=True)
    row = _cells(page, "enrollment", enrollment_id)
    named = "<strong>Enrollment</strong> <span>Anna Keller in GMP-101 Good Manufacturing Practice"
    assert named in row
    assert "<dt>Due date</dt><dd><ins>2026-12-01</ins></dd>" in row
    assert "Anchor date" not in row  # empty on creation: only the raw values show it
    assert "<dt>Course</dt><dd><ins>GMP-101 Good Manufacturing Practice</ins></dd>" in row
    assert "<dt>Person</dt><dd><ins>Anna Keller</ins></dd>" in row
    assert "anchor_date" not in row.split("<details", 1)[0]  # no column names before "Raw"
    raw = row.split('<details class="audit-raw">', 1)[1]
    assert "<summary>Raw values</summary>" in raw
    assert f'"course_id": {gmp.id}' in raw and f'"user_id": {anna.id}' in raw
    assert 'class="audit-system"' in page and "system-generated" in page


def test_names_are_resolved_with_one_query_per_kind_not_per_row(client, auth, org, count_queries):
    people = [UserFactory() for _ in range(3)]
    _engine_rows(2, CourseFactory(), people)
    auth.login(org.qa)

    def queries() -> int:
        with count_queries() as statements:
            page = client.get("/audit/?per_page=100").get_data(as_text=True)
        assert "#" not in page.split("<strong>Enrollment</strong>", 1)[1].split("</a>", 1)[0]
        assert "<dt>Course</dt><dd><ins>C-" in page  # every course id named
        return len(statements)

    few = queries()
    _engine_rows(40, CourseFactory(), people + [UserFactory() for _ in range(10)])
    assert queries() == few


def test_hide_system_generated_entries_on_page_htmx_and_csv(client, auth, org):
    course = CourseFactory(code="GMP-101", title="Good Manufacturing Practice")
    _engine_rows(3, course, [UserFactory(name="Anna Keller")])
    doc = new_document(org)
    auth.login(org.qa)
    token = csrf(client, f"/documents/{doc.id}/edit")
    edit = {
        "title": "Line clearance and cleaning",
        "document_type": "sop",
        "training_due_days": "10",
        "job_role_ids": [str(org.role.id)],
        "owner_email": org.qa.email,
        "csrf_token": token,
    }
    assert client.post(f"/documents/{doc.id}/edit", data=edit).status_code == 302

    everything = client.get("/audit/").get_data(as_text=True)
    assert (
        "requirement engine: nightly" in everything and "Line clearance and cleaning" in everything
    )
    people_only = client.get("/audit/?hide_system=1").get_data(as_text=True)
    assert 'name="hide_system" value="1" checked' in people_only
    assert "requirement engine: nightly" not in people_only
    assert (
        "<dt>Title</dt><dd><del>Line clearance</del> → <ins>Line clearance and cleaning</ins>"
        in (people_only)
    )
    fragment = client.get("/audit/?hide_system=1", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "requirement engine" not in body and "Document" in body

    export = client.get("/audit/export.csv?hide_system=1").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(export)))
    assert rows and all(r["system_generated"] == "no" for r in rows)
    assert {r["entity"] for r in rows} == {"document", "course"}  # the course takes the title
    [update] = [r for r in rows if r["action"] == "update" and r["entity"] == "document"]
    assert '"title": "Line clearance and cleaning"' in update["after"]  # raw values kept
    assert update["at_utc"].endswith("+00:00")
    assert "Document SOP-QA-001 Line clearance and cleaning — " in update["summary"]
    assert "Title: Line clearance → Line clearance and cleaning" in update["summary"]
    full = list(csv.DictReader(io.StringIO(client.get("/audit/export.csv").get_data(as_text=True))))
    assert {"yes", "no"} == {r["system_generated"] for r in full}


def test_signatures_cite_what_was_signed_by_name_and_version(app, client, auth, org):
    doc = new_document(org, "SOP-FUL-002")
    effective(org, upload(org, doc, "1", V1_TEXT))
    v2 = upload(org, doc, "2", V2_TEXT)
    classify(org, v2, "significant", note="Detergent B.")
    effective(org, v2)
    run_queued_jobs(app)
    person = org.in_role
    from tests.gxp.documents.conftest import enrollments_for

    enrollment = [e for e in enrollments_for(v2) if e.user_id == person.id][-1]
    sign_read_and_understood(enrollment, v2, person, PASSWORD)
    db.session.commit()

    sigs = list(db.session.scalars(select(ESignature).order_by(ESignature.id)))
    cited = cite(sigs)
    read = next(s for s in sigs if s.meaning == "read_understood")
    assert cited[read.id] == "SOP-FUL-002 'Line clearance' version 2"
    approval = next(s for s in sigs if s.meaning == "approved" and s.entity_id == str(v2.id))
    assert cited[approval.id] == "SOP-FUL-002 version 2"

    auth.login(org.qa)
    version_page = client.get(f"/documents/{doc.id}/versions/{v2.id}").get_data(as_text=True)
    assert "Approved SOP-FUL-002 version 2" in version_page
    assert "Reviewed SOP-FUL-002 version 2" in version_page
    record = client.get(f"/people/{person.id}/record").get_data(as_text=True)
    assert "SOP-FUL-002 &#39;Line clearance&#39; version 2" in record
    assert "sop_enrollment #" not in record
    trail = client.get("/audit/?entity=sop_enrollment").get_data(as_text=True)
    assert f"<strong>Enrollment</strong> <span>{person.name} in SOP-FUL-002 version 2" in trail
    assert "<dt>Meaning</dt><dd><ins>Read and understood</ins></dd>" in trail


def test_the_record_menu_names_each_kind(client, auth, org):
    for entity in ("sop_enrollment", "course", "document_version_review", "user"):
        record_audit("update", entity, 1)
    db.session.commit()
    auth.login(org.qa)
    page = client.get("/audit/?entity=course").get_data(as_text=True)
    assert '<option value="course" selected>Course</option>' in page
    assert '<option value="sop_enrollment" >Enrollment (sop enrollment)</option>' in page
    assert '<option value="user" >Person (user)</option>' in page
