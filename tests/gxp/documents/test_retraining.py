"""Versions, classification and retraining: exactly the affected people, once; editorial
changes retrain nobody; superseded open training closes, completed training stays; people who
join later get the current version; a signed record changed afterwards shows as invalid."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.gxp import documents as svc
from app.gxp import retraining
from app.gxp.models import ControlledDocument
from app.learning.models import Enrollment, Module
from app.people.users import create_user
from app.platform import clock
from app.platform.audit import AuditLog
from app.platform.errors import Conflict, Invalid
from tests.gxp.documents.conftest import (
    V1_TEXT,
    V2_TEXT,
    classify,
    effective,
    enrollments_for,
    new_document,
    signatures,
    upload,
)
from tests.helpers.jobs import run_queued_jobs
from tests.people.factories import DepartmentFactory, UserFactory


def _counts():
    db.session.expire_all()
    return (
        db.session.scalar(select(func.count()).select_from(Enrollment)),
        db.session.scalar(select(func.count()).select_from(AuditLog)),
    )


def test_creating_a_document_creates_its_read_and_understand_course(org):
    doc = new_document(org)
    course = doc.course
    assert (course.code, course.status, course.self_enroll) == ("SOP-QA-001", "published", False)
    [module] = db.session.scalars(select(Module).where(Module.course_id == course.id)).all()
    assert module.kind == "sop"
    audited = db.session.scalars(select(AuditLog.entity).where(AuditLog.action == "create")).all()
    assert {"course", "module", "document"} <= set(audited)
    with pytest.raises(Invalid) as exc:
        new_document(org)  # the number is taken
    assert "number" in exc.value.errors


def test_first_version_trains_exactly_the_affected_people_once(app, org):
    doc = new_document(org, due_days=10)
    v1 = upload(org, doc, "1", V1_TEXT)
    assert v1.status == "draft" and len(v1.checksum) == 64 and "detergent A" in v1.text

    effective(org, v1)  # a first version needs no classification
    run_queued_jobs(app)

    rows = enrollments_for(v1)
    assert {e.user_id for e in rows} == org.affected_ids  # once each, the inactive not at all
    due = clock.today() + timedelta(days=10)
    assert {(e.source, e.status, e.cycle, e.due_date) for e in rows} == {
        ("document", "assigned", 1, due)
    }
    audit = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "enrollment", AuditLog.action == "create")
    ).all()
    assert {a.reason for a in audit} == {"read and understand SOP-QA-001 version 1"}
    assert len(audit) == 3
    [approval] = signatures(svc.APPROVAL_ENTITY, v1.id)
    assert (approval.printed_name, approval.meaning, approval.valid) == (
        "Quinn QA",
        "Approved",
        True,
    )

    before = _counts()
    assert retraining.assign_training(v1.id) == retraining.AssignResult(0, 0)
    assert retraining.assign_current_versions() == 0
    assert _counts() == before


def test_editorial_change_retrains_nobody(app, org):
    doc = new_document(org)
    v1 = upload(org, doc, "1", V1_TEXT)
    effective(org, v1)
    run_queued_jobs(app)
    v2 = upload(org, doc, "2", V1_TEXT + "Typo fixed.\n")
    with pytest.raises(Conflict):
        effective(org, v2)  # not classified yet
    with pytest.raises(Invalid) as exc:
        classify(org, v2, "editorial")
    assert "change_reason" in exc.value.errors

    classify(org, v2, "editorial", reason="Typo in the last line")
    before = _counts()
    effective(org, v2)
    run_queued_jobs(app)

    db.session.expire_all()
    assert (v1.status, v2.status) == ("superseded", "effective")
    assert enrollments_for(v2) == []
    assert {e.status for e in enrollments_for(v1)} == {"assigned"}  # still open
    assert _counts()[0] == before[0]
    # Trained on v1 counts as trained on the (editorial) current version.
    assert svc.training_counts([doc.id]) == {doc.id: (0, 3)}


def test_significant_change_retrains_closes_open_training_and_keeps_completions(app, org):
    doc = new_document(org, due_days=7)
    v1 = upload(org, doc, "1", V1_TEXT)
    effective(org, v1)
    run_queued_jobs(app)
    done = next(e for e in enrollments_for(v1) if e.user_id == org.in_role.id)
    done.status, done.completed_at = "completed", clock.now()
    db.session.commit()
    assert svc.training_counts([doc.id]) == {doc.id: (1, 3)}

    v2 = upload(org, doc, "2", V2_TEXT)
    classify(org, v2, "significant", note="Detergent B replaces detergent A.")
    later = clock.today() + timedelta(days=3)
    effective(org, v2, on=later)
    run_queued_jobs(app)

    by_user = {e.user_id: e for e in enrollments_for(v2)}
    assert set(by_user) == org.affected_ids
    assert {(e.cycle, e.due_date) for e in by_user.values()} == {(2, later + timedelta(days=7))}
    old = {e.user_id: e.status for e in enrollments_for(v1)}
    assert old == {
        org.in_role.id: "completed",
        org.in_dept.id: "expired",
        org.in_both.id: "expired",
    }
    closing = db.session.scalars(
        select(AuditLog).where(AuditLog.reason == "superseded by version 2")
    ).all()
    assert {a.entity for a in closing} == {"enrollment", "document_version"}
    closed = [a for a in closing if a.entity == "enrollment"]
    assert len(closed) == 2 and all(a.after["status"] == "expired" for a in closed)
    assert closed[0].before["status"] == "assigned"
    assert svc.training_counts([doc.id]) == {doc.id: (0, 3)}

    before = _counts()
    assert retraining.assign_training(v2.id) == retraining.AssignResult(0, 0)
    assert _counts() == before


def test_a_person_hired_later_into_an_affected_role_gets_the_current_version(app, org):
    doc = new_document(org, due_days=5)
    v1 = upload(org, doc, "1", V1_TEXT)
    effective(org, v1)
    run_queued_jobs(app)

    person = create_user(
        {"email": "late@example.com", "name": "Late Joiner", "job_role_id": org.role.id},
        actor=org.qa,
    )
    run_queued_jobs(app)  # the compliance engine's trigger, on a worker with Redis

    [mine] = [e for e in enrollments_for(v1) if e.user_id == person.id]
    assert mine.due_date == clock.today() + timedelta(days=5)
    assert len(enrollments_for(v1)) == 4

    # Widening the audience reaches the people already in the added department.
    extra = DepartmentFactory()
    newcomer = UserFactory(department=extra)
    svc.update_document(
        doc.id,
        {
            "title": doc.title,
            "training_due_days": "5",
            "owner_email": org.qa.email,
            "job_role_ids": [org.role.id],
            "department_ids": [org.dept.id, extra.id],
        },
        org.qa,
    )
    run_queued_jobs(app)
    assert newcomer.id in {e.user_id for e in enrollments_for(v1)}
    [change] = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "document", AuditLog.action == "update")
    ).all()
    assert (change.before["department_ids"], change.after["department_ids"]) == (
        [org.dept.id],
        sorted([org.dept.id, extra.id]),
    )


def test_changing_a_signed_version_shows_its_signature_invalid(app, org, client, auth):
    doc = new_document(org)
    v1 = upload(org, doc, "1", V1_TEXT)
    effective(org, v1)
    v2 = upload(org, doc, "2", V2_TEXT)
    classify(org, v2, "significant", note="Detergent B.")
    assert [s.valid for s in signatures(svc.REVIEW_ENTITY, v2.id)] == [True]

    db.session.execute(
        text("UPDATE document_versions SET change_note = 'Nothing much' WHERE id = :id"),
        {"id": v2.id},
    )
    db.session.commit()

    assert [s.valid for s in signatures(svc.REVIEW_ENTITY, v2.id)] == [False]
    auth.login(org.qa)
    page = client.get(f"/documents/{doc.id}/versions/{v2.id}").get_data(as_text=True)
    assert "signature invalid" in page and "Quinn QA" in page
    history = client.get(f"/documents/{doc.id}").get_data(as_text=True)
    assert history.count("signature invalid") == 1  # v1's approval still holds
    assert db.session.get(ControlledDocument, doc.id).number == "SOP-QA-001"
