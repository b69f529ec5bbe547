"""The demo SOPs: two documents, one with a significant second version; seeding is idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.gxp import documents as svc
from app.gxp.models import ControlledDocument, DocumentVersion
from app.learning.models import Enrollment
from app.people.models import User


def test_seed_demo_adds_two_sops_with_training_once(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    docs = {d.number: d for d in db.session.scalars(select(ControlledDocument))}
    assert set(docs) == {"SOP-FUL-002", "SOP-QA-001"}
    picking = svc.document_versions(docs["SOP-FUL-002"].id)
    assert [(v.version, v.status, v.change_class) for v in picking] == [
        ("2", "effective", "significant"),
        ("1", "superseded", None),
    ]
    assert "best-before" in picking[0].change_note
    sigs = svc.version_signatures([v.id for v in picking])
    assert all(s.valid for group in sigs.values() for s in group) and len(sigs[picking[0].id]) == 2
    ryan = db.session.scalar(select(User).where(User.email == "ryan.walsh@example.com"))
    mine = db.session.scalar(
        select(Enrollment).where(
            Enrollment.user_id == ryan.id, Enrollment.document_version_id == picking[0].id
        )
    )
    assert mine.status == "assigned" and mine.cycle == 2
    trained, affected = svc.training_counts([docs["SOP-QA-001"].id])[docs["SOP-QA-001"].id]
    assert 0 < trained < affected

    before = db.session.scalar(select(func.count()).select_from(DocumentVersion))
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(DocumentVersion)) == before


def test_demo_versions_keep_author_reviewer_and_approver_apart(runner):
    """The demo SOPs obey the segregation of duties they are shown under."""
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    for v in db.session.scalars(select(DocumentVersion)):
        people = [v.created_by_id, v.classified_by_id, v.effective_by_id]
        steps = [p for p in people if p is not None]
        assert len(steps) == len(set(steps)), (v.document.number, v.version, people)
