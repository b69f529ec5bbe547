"""The demo organisation shows compliance the way a QA manager would meet it: a mix."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from app.compliance.models import CompetencyRequirement, ComplianceSnapshot, Waiver
from app.compliance.statuses import statuses
from app.extensions import db
from app.platform import clock


def test_seed_demo_builds_a_matrix_with_a_history_and_a_trend(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(CompetencyRequirement)) == 15
    mix = Counter(row.status for row in statuses(clock.today()))
    # Trained, expired, due soon and waived people all appear.
    assert {"compliant", "expired", "due_soon", "waived"} <= set(mix)
    assert {w.status for w in db.session.scalars(select(Waiver))} == {"approved", "pending"}
    trend = db.session.scalars(
        select(ComplianceSnapshot)
        .where(ComplianceSnapshot.department_id.is_(None), ComplianceSnapshot.job_role_id.is_(None))
        .order_by(ComplianceSnapshot.taken_on)
    ).all()
    assert len(trend) == 13
    assert trend[0].compliant < trend[-1].compliant  # training catches up over the year

    before = db.session.scalar(select(func.count()).select_from(CompetencyRequirement))
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(CompetencyRequirement)) == before


def test_compliance_run_backfills_missing_month_ends_once(runner):
    first = runner.invoke(args=["compliance-run", "--backfill-months", "3"])
    assert first.exit_code == 0, first.output
    assert "Backfilled 3 month ends." in first.output
    again = runner.invoke(args=["compliance-run", "--backfill-months", "3"])
    assert "Backfilled 0 month ends." in again.output
