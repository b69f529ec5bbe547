"""Stored compliance statuses: read only when current, refreshed per person by the sealer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from rq import Queue
from sqlalchemy import func, select

from app.audit.chain import seal_pending
from app.compliance import matrix as matrices
from app.compliance import reports, status_store
from app.compliance.engine import run_requirement_engine
from app.compliance.models import ComplianceStatus, ComplianceStatusState
from app.compliance.requirements import update_requirement
from app.compliance.statuses import Scope, status_query
from app.extensions import db
from app.learning.enrollments import complete_module, enroll_user, evaluate_completion
from app.people.users import update_user
from app.platform.audit import AuditLog, record_audit
from tests.compliance.factories import RequirementFactory
from tests.helpers.jobs import run_queued_jobs
from tests.learning.factories import ModuleFactory
from tests.people.factories import DepartmentFactory, JobRoleFactory, UserFactory

DATES = (4, 5, 6)  # due_date, completed_on, valid_until


def _rows(stmt) -> list[tuple]:
    """Rows sorted, computed dates parsed (SQLite hands them back as text)."""
    q = stmt.subquery()
    out = []
    for row in db.session.execute(select(q)):
        values = list(row)
        for i in DATES:
            values[i] = reports.as_date(values[i])
        out.append(tuple(values))
    return sorted(out)


@pytest.fixture
def world(app):
    app.config["COMPLIANCE_STATUS_STORE"] = True
    on = reports.today()
    role = JobRoleFactory()
    first = RequirementFactory(job_role=role)
    RequirementFactory(job_role=role)
    people = [UserFactory(job_role=role, department=DepartmentFactory()) for _ in range(3)]
    run_requirement_engine(on=on)
    seal_pending()
    return on, first, people


def test_a_rebuilt_table_answers_like_the_derivation_and_reads_use_it(world, count_queries):
    on, _, people = world
    assert not status_store.is_current(on)  # never built: reads derive
    assert status_store.rebuild(on) == 6
    assert status_store.is_current(on)
    assert _rows(status_store.status_source(on)) == _rows(status_query(on))
    scope = Scope(department_id=people[0].department_id)
    assert _rows(status_store.status_source(on, scope)) == _rows(status_query(on, scope))
    with count_queries() as statements:
        summary = reports.summaries(on)
    assert not any("training_enrollments" in s for s in statements)  # read from the table
    assert sum(u.applicable for u in summary["department"]) == 6
    # Another day is not what the table holds: derived live.
    assert not status_store.is_current(on + timedelta(days=1))


def test_a_change_counts_only_once_sealed_and_then_refreshes_that_person(world):
    on, first, people = world
    status_store.rebuild(on)
    record_audit("create", "file", 1, after={"name": "x"})  # committed, not yet sealed
    db.session.commit()
    assert status_store.is_current(on)  # a change that moves nobody keeps the table current
    seal_pending()
    assert status_store.is_current(on)

    module = ModuleFactory(course=first.course)
    enrollment, _ = enroll_user(people[0].id, first.course_id)
    complete_module(enrollment.id, module.id)
    assert evaluate_completion(enrollment.id)  # audited as an enrollment
    seal_pending()
    run_queued_jobs(current_app)
    seal_pending()
    assert status_store.is_current(on)
    assert _rows(status_store.status_source(on)) == _rows(status_query(on))
    done = db.session.scalar(
        select(ComplianceStatus.status).where(
            ComplianceStatus.user_id == people[0].id,
            ComplianceStatus.requirement_id == first.id,
        )
    )
    assert done == "compliant"
    assert reports.totals(on).ok == 1

    # A person moved to another department is refreshed too (audited as a user).
    elsewhere = DepartmentFactory()
    mover = people[1]
    update_user(
        mover.id,
        {
            "email": mover.email,
            "name": mover.name,
            "job_role_id": mover.job_role_id,
            "department_id": elsewhere.id,
        },
    )
    seal_pending()
    moved = db.session.scalars(
        select(ComplianceStatus.department_id).where(ComplianceStatus.user_id == people[1].id)
    ).all()
    assert moved == [elsewhere.id, elsewhere.id]


def test_right_after_a_change_its_person_is_derived_live_and_the_rest_read_from_the_table(
    world, count_queries
):
    on, first, people = world
    status_store.rebuild(on)
    module = ModuleFactory(course=first.course)
    enrollment, _ = enroll_user(people[0].id, first.course_id)
    complete_module(enrollment.id, module.id)
    assert evaluate_completion(enrollment.id)  # committed; its audit rows are not sealed yet
    unsealed = db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.row_hash.is_(None))
    )
    assert unsealed and not status_store.is_current(on)

    assert _rows(status_store.status_source(on)) == _rows(status_query(on))
    with count_queries() as statements:
        totals = reports.totals(on)
    assert totals.ok == 1  # the completion counts at once, before the sealer runs
    [read] = [s for s in statements if "compliance_statuses" in s]
    assert "training_enrollments" in read  # that one person is derived live ...
    assert "UNION ALL" in read.upper()  # ... beside the table's rows for everyone else
    scope = Scope(department_id=people[1].department_id)  # nobody pending in this scope
    assert _rows(status_store.status_source(on, scope)) == _rows(status_query(on, scope))


def test_a_requirement_change_makes_the_table_stale_until_rebuilt(world):
    on, first, _ = world
    status_store.rebuild(on)
    update_requirement(first.id, {"grace_days": 30})
    seal_pending()  # marks the table stale and asks for a rebuild (inline without Redis)
    run_queued_jobs(current_app)
    seal_pending()
    assert status_store.is_current(on)
    grace = db.session.scalars(
        select(ComplianceStatus.grace_days).where(ComplianceStatus.requirement_id == first.id)
    ).all()
    assert grace == [30, 30, 30]
    assert _rows(status_store.status_source(on)) == _rows(status_query(on))


def test_turned_off_it_is_never_read(world):
    on, _, _ = world
    status_store.rebuild(on)
    current_app.config["COMPLIANCE_STATUS_STORE"] = False
    assert not status_store.is_current(on)
    assert "pairs" in str(status_store.status_source(on))


def test_the_matrix_and_the_gaps_read_the_same_from_the_table(world, count_queries):
    from app.compliance.requirements import gaps

    on, _, people = world
    status_store.rebuild(on)
    scope = Scope(department_id=people[0].department_id)
    with count_queries() as statements:
        stored = (matrices.training_matrix(on), gaps(on), gaps(on, scope))
    assert not any("training_enrollments" in s for s in statements)
    current_app.config["COMPLIANCE_STATUS_STORE"] = False
    derived = (matrices.training_matrix(on), gaps(on), gaps(on, scope))
    assert stored == derived
    assert len(stored[1].items) == 3 and len(stored[2].items) == 1


def test_the_first_read_of_a_new_day_asks_once_for_its_rebuild(world):
    from app.platform.jobs import get_redis, queue_name

    on, _, _ = world
    status_store.rebuild(on - timedelta(days=1))  # yesterday's table; today has begun
    conn = get_redis()
    if conn is None:  # inline, a rebuild would commit the reader's transaction: derive instead
        assert not status_store.is_current(on) and not status_store.is_current(on)
        assert db.session.get(ComplianceStatusState, 1).as_of == on - timedelta(days=1)
        return
    conn.delete(f"cadre:{queue_name('statuses-day')}:{on.isoformat()}")
    assert not status_store.is_current(on)  # derived live meanwhile, and the rebuild queued
    assert not status_store.is_current(on)  # asked once
    queued = Queue(queue_name("compliance"), connection=conn)
    assert [j.args[0] for j in queued.jobs] == ["compliance.rebuild_statuses"]
    run_queued_jobs(current_app)
    db.session.expire_all()
    assert status_store.is_current(on)
    assert _rows(status_store.status_source(on)) == _rows(status_query(on))
