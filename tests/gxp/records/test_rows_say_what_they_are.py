"""Training rows say what they are: an imported completion is "completed before Cadre, imported
on <date>" (not "0/4 required modules · 100%"), and two read-and-understand rows of one SOP
show the document version each is for, on Home, My record, its CSV and the training API."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from app.extensions import db
from app.gxp.models import ControlledDocument, DocumentVersion
from app.learning.models import Enrollment
from tests.learning.factories import CourseFactory, ModuleFactory
from tests.people.factories import UserFactory


def _item(html: str, enrollment_id: int) -> str:
    m = re.search(rf'<li class="training-item" id="enrollment-{enrollment_id}".*?</li>', html, re.S)
    assert m, enrollment_id
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(0)))


def test_an_imported_completion_says_it_was_imported(app, client, auth):
    person = UserFactory()
    course = CourseFactory(code="FUL-301")
    for _ in range(4):
        ModuleFactory(course=course, required=True)
    imported = Enrollment(
        user_id=person.id,
        course_id=course.id,
        source="import",
        status="completed",
        completed_at=datetime(2025, 12, 5, 10, 30, tzinfo=UTC),
        created_at=datetime(2025, 12, 23, 9, 0, tzinfo=UTC),
        score=99.0,
    )
    db.session.add(imported)
    db.session.commit()
    auth.login(person)

    home = _item(client.get("/home").get_data(as_text=True), imported.id)
    assert "before Cadre (2025-12-05), imported on 2025-12-23" in home
    assert "required modules" not in home and "100%" not in home

    record = client.get(f"/people/{person.id}/record").get_data(as_text=True)
    row = re.search(rf'<tr id="enrollment-{imported.id}">.*?</tr>', record, re.S).group(0)
    assert "completed before Cadre, imported on 2025-12-23" in row


def test_two_versions_of_one_sop_are_told_apart(app, client, auth):
    person = UserFactory()
    course = CourseFactory(code="SOP-FUL-002", title="Picking and packing")
    ModuleFactory(course=course, kind="sop", required=True)
    document = ControlledDocument(number="SOP-FUL-002", title="Picking and packing")
    document.course_id = course.id
    db.session.add(document)
    db.session.flush()
    v1 = DocumentVersion(document_id=document.id, version="1", status="superseded")
    v2 = DocumentVersion(document_id=document.id, version="2", status="effective")
    db.session.add_all([v1, v2])
    db.session.flush()
    done = Enrollment(
        user_id=person.id,
        course_id=course.id,
        cycle=1,
        source="document",
        status="completed",
        completed_at=datetime(2026, 2, 12, 9, 30, tzinfo=UTC),
        document_version_id=v1.id,
    )
    todo = Enrollment(
        user_id=person.id,
        course_id=course.id,
        cycle=2,
        source="document",
        status="assigned",
        document_version_id=v2.id,
    )
    db.session.add_all([done, todo])
    db.session.commit()
    auth.login(person)

    home = client.get("/home").get_data(as_text=True)
    assert "version 1" in _item(home, done.id)
    assert "version 2" in _item(home, todo.id)

    record = client.get(f"/people/{person.id}/record").get_data(as_text=True)
    rows = {
        int(m.group(1)): m.group(0)
        for m in re.finditer(r'<tr id="enrollment-(\d+)">.*?</tr>', record, re.S)
    }
    assert "version 1" in rows[done.id] and "version 2" in rows[todo.id]

    body = client.get(f"/people/{person.id}/record.csv").get_data(as_text=True)
    versions = {
        int(r["id"]): r["document_version"]
        for r in csv.DictReader(io.StringIO(body.lstrip("\ufeff")))
        if r["section"] == "enrollment"
    }
    assert versions == {done.id: "1", todo.id: "2"}

    api = client.get(f"/api/training/users/{person.id}").get_json()
    assert {e["id"]: e["document_version"] for e in api["enrollments"]} == {
        done.id: "1",
        todo.id: "2",
    }
    listed = client.get(f"/api/v1/training/records?user_id={person.id}").get_json()
    assert {i["id"]: i["document_version"] for i in listed["items"]} == {
        done.id: "1",
        todo.id: "2",
    }
