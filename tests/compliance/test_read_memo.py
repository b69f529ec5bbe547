"""Compliance reads are reused until a training record changes (the audit trail moves)."""

from __future__ import annotations

from datetime import date

from app.compliance import reports
from app.compliance.engine import run_requirement_engine
from app.learning.enrollments import enroll_user
from app.platform import clock
from tests.compliance.factories import RequirementFactory
from tests.people.factories import JobRoleFactory, UserFactory

TODAY = date(2026, 6, 1)


def test_a_read_is_reused_until_the_audit_trail_moves(app, count_queries):
    app.config["COMPLIANCE_CACHE_SECONDS"] = 600
    role = JobRoleFactory()
    req = RequirementFactory(job_role=role)
    person = UserFactory(job_role=role)
    run_requirement_engine(on=TODAY)  # audited: one assignment, one enrollment

    first = reports.totals(TODAY)
    assert (first.applicable, first.ok) == (1, 0)
    with count_queries() as statements:
        again = reports.totals(TODAY)
    assert again == first
    assert len(statements) == 1 and "audit_log" in statements[0]  # only the trail's head

    # A completion through the service writes its audit row: the next read recomputes.
    from app.learning.enrollments import complete_module, evaluate_completion
    from tests.learning.factories import ModuleFactory

    module = ModuleFactory(course=req.course)
    enrollment, _ = enroll_user(person.id, req.course_id)
    complete_module(enrollment.id, module.id)
    assert evaluate_completion(enrollment.id)
    after = reports.totals(clock.today())
    assert (after.applicable, after.ok) == (1, 1)
    assert reports.totals(TODAY).ok == 0  # another day is another key (completed after it)


def test_zero_turns_the_memo_off(app, count_queries):
    app.config["COMPLIANCE_CACHE_SECONDS"] = 0
    RequirementFactory(job_role=JobRoleFactory())
    reports.totals(TODAY)
    with count_queries() as statements:
        reports.totals(TODAY)
    assert len(statements) == 1 and "WITH pairs" in statements[0]  # computed again
