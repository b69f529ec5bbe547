"""The requirement engine and the status query: hire, role change, new requirement, expiry,
renewal, substitutes, programs, waivers; re-running changes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.compliance.engine import run_requirement_engine
from app.compliance.models import CompetencySubstitute, CurriculumCourse, TrainingAssignment, Waiver
from app.compliance.statuses import Scope, statuses
from app.extensions import db
from app.learning.models import Enrollment
from app.platform.audit import AuditLog
from tests.compliance.factories import CurriculumFactory, RequirementFactory, complete
from tests.learning.factories import CourseFactory
from tests.people.factories import JobRoleFactory, UserFactory

TODAY = date(2026, 6, 1)


def status_of(user, requirement, on=TODAY):
    rows = statuses(on, Scope(user_ids=[user.id], requirement_ids=[requirement.id]))
    return rows[0] if rows else None


def enrollments_of(user, course) -> list[Enrollment]:
    return db.session.scalars(
        select(Enrollment)
        .where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
        .order_by(Enrollment.cycle)
    ).all()


def counts():
    return (
        db.session.scalar(select(func.count()).select_from(TrainingAssignment)),
        db.session.scalar(select(func.count()).select_from(Enrollment)),
        db.session.scalar(select(func.count()).select_from(AuditLog)),
    )


def test_hire_assigns_due_days_after_hire_and_rerun_changes_nothing(app):
    role = JobRoleFactory()
    req = RequirementFactory(job_role=role, due_days=14, due_basis="hire")
    person = UserFactory(job_role=role, hire_date=date(2026, 5, 25))
    UserFactory()  # another role: nothing for them

    result = run_requirement_engine(on=TODAY, cause="hire")

    assert (result.assignments, result.enrollments) == (1, 1)
    [enrollment] = enrollments_of(person, req.course)
    assert enrollment.source == "requirement"
    assert enrollment.due_date == date(2026, 6, 8)
    assert enrollment.status == "assigned"
    row = status_of(person, req)
    assert (row.status, row.due_date, row.ok) == ("due_soon", date(2026, 6, 8), False)
    audit = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "enrollment", AuditLog.action == "create")
    ).all()
    assert [a.entity_id for a in audit] == [str(enrollment.id)]
    assert audit[0].after["due_date"] == "2026-06-08"
    assert audit[0].reason == "requirement engine: hire"
    assert audit[0].actor_label.startswith("system")

    before = counts()
    again = run_requirement_engine(on=TODAY)
    assert (again.assignments, again.renewals, again.enrollments) == (0, 0, 0)
    assert counts() == before


def test_statuses_follow_the_due_date(app):
    role = JobRoleFactory()
    req = RequirementFactory(job_role=role, due_days=45)
    person = UserFactory(job_role=role)
    run_requirement_engine(on=TODAY)
    due = date(2026, 7, 16)
    assert status_of(person, req).status == "not_started"
    assert status_of(person, req, on=date(2026, 6, 20)).status == "due_soon"
    assert status_of(person, req, on=due).status == "due_soon"
    assert status_of(person, req, on=date(2026, 7, 17)).status == "overdue"


def test_role_change_assigns_the_new_roles_requirements(app):
    old, new = JobRoleFactory(), JobRoleFactory()
    RequirementFactory(job_role=old)
    req_new = RequirementFactory(job_role=new, due_days=10)
    person = UserFactory(job_role=old)
    run_requirement_engine(on=TODAY)
    assert enrollments_of(person, req_new.course) == []

    person.job_role = new
    db.session.commit()
    result = run_requirement_engine(on=date(2026, 6, 3), scope=Scope(user_ids=[person.id]))

    assert result.enrollments == 1
    [enrollment] = enrollments_of(person, req_new.course)
    assert enrollment.due_date == date(2026, 6, 13)
    # The old role's requirement no longer applies: it is not in the person's statuses.
    rows = statuses(date(2026, 6, 3), Scope(user_ids=[person.id]))
    assert [r.requirement_id for r in rows] == [req_new.id]


def test_new_requirement_reaches_everyone_in_scope_and_respects_earlier_completions(app):
    role = JobRoleFactory()
    course = CourseFactory(validity_months=12)
    a, b, c = (UserFactory(job_role=role) for _ in range(3))
    complete(a, course, date(2026, 3, 1))  # trained before the requirement existed
    req = RequirementFactory(job_role=role, course=course)

    result = run_requirement_engine(on=TODAY, scope=Scope(requirement_ids=[req.id]))

    assert result.assignments == 3
    assert result.enrollments == 2  # b and c; a is already trained
    assert status_of(a, req).status == "compliant"
    assert status_of(a, req).valid_until == date(2027, 3, 1)
    assert {status_of(p, req).status for p in (b, c)} == {"due_soon"}


def test_requirement_for_a_department_or_team(app):
    person = UserFactory()
    from tests.people.factories import DepartmentFactory, TeamFactory

    dept = DepartmentFactory()
    team = TeamFactory(department=dept)
    person.department = dept
    person.team = team
    db.session.commit()
    by_dept = RequirementFactory(job_role=None, department=dept)
    by_team = RequirementFactory(job_role=None, team=team)
    run_requirement_engine(on=TODAY)
    rows = statuses(TODAY, Scope(user_ids=[person.id]))
    assert sorted(r.requirement_id for r in rows) == sorted([by_dept.id, by_team.id])


def test_expiry_renewal_window_and_early_renewal_keeps_the_cycle(app):
    role = JobRoleFactory()
    course = CourseFactory()
    req = RequirementFactory(job_role=role, course=course, recert_months=12, recert_window_days=60)
    person = UserFactory(job_role=role)
    run_requirement_engine(on=date(2025, 1, 1))
    complete(person, course, date(2025, 1, 10))
    assert status_of(person, req, on=date(2025, 6, 1)).status == "compliant"

    # Outside the window nothing happens.
    assert run_requirement_engine(on=date(2025, 11, 1)).enrollments == 0
    # 60 days before expiry (2026-01-10) the renewal is assigned, due on the expiry date.
    result = run_requirement_engine(on=date(2025, 11, 11))
    assert (result.renewals, result.enrollments) == (1, 1)
    first, renewal = enrollments_of(person, course)
    assert (renewal.cycle, renewal.due_date, renewal.anchor_date) == (
        2,
        date(2026, 1, 10),
        date(2026, 1, 10),
    )
    assert status_of(person, req, on=date(2025, 12, 20)).status == "due_soon"
    assert run_requirement_engine(on=date(2025, 11, 20)) == run_requirement_engine(
        on=date(2025, 11, 21)
    )

    # Renewed early (December): valid until 2027-01-10, not 2026-12-01.
    complete(person, course, date(2025, 12, 1))
    row = status_of(person, req, on=date(2025, 12, 2))
    assert (row.status, row.valid_until) == ("compliant", date(2027, 1, 10))
    # History is kept: both cycles remain completed.
    assert [e.status for e in enrollments_of(person, course)] == ["completed", "completed"]
    assert first.completed_at.date() == date(2025, 1, 10)


def test_expired_after_grace(app):
    role = JobRoleFactory()
    course = CourseFactory()
    req = RequirementFactory(job_role=role, course=course, recert_months=6, grace_days=10)
    person = UserFactory(job_role=role)
    complete(person, course, date(2026, 1, 1))
    run_requirement_engine(on=date(2026, 1, 2))
    assert status_of(person, req, on=date(2026, 7, 5)).status == "due_soon"
    assert status_of(person, req, on=date(2026, 7, 5)).ok is True
    assert status_of(person, req, on=date(2026, 7, 11)).status == "expired"
    assert status_of(person, req, on=date(2026, 7, 11)).ok is False


def test_calendar_window_every_january(app):
    role = JobRoleFactory()
    course = CourseFactory()
    req = RequirementFactory(
        job_role=role,
        course=course,
        recert_months=12,
        recert_mode="calendar",
        recert_anchor_month=1,
        recert_window_days=45,
    )
    early, late = UserFactory(job_role=role), UserFactory(job_role=role)
    complete(early, course, date(2026, 3, 10))
    complete(late, course, date(2026, 12, 1))  # inside the window: counts for 2027
    run_requirement_engine(on=date(2026, 12, 2))
    assert status_of(early, req, on=date(2026, 12, 2)).valid_until == date(2027, 1, 1)
    assert status_of(late, req, on=date(2026, 12, 2)).valid_until == date(2028, 1, 1)


def test_substitute_course_meets_the_requirement(app):
    role = JobRoleFactory()
    course, equivalent = CourseFactory(), CourseFactory()
    req = RequirementFactory(job_role=role, course=course)
    db.session.add(CompetencySubstitute(requirement_id=req.id, course_id=equivalent.id))
    db.session.commit()
    person = UserFactory(job_role=role)
    complete(person, equivalent, date(2026, 5, 1))
    result = run_requirement_engine(on=TODAY)
    assert result.enrollments == 0
    assert status_of(person, req).status == "compliant"


def test_program_requirement_needs_every_course(app):
    role = JobRoleFactory()
    c1, c2 = CourseFactory(), CourseFactory()
    program = CurriculumFactory(validity_months=24)
    db.session.add_all(
        [
            CurriculumCourse(curriculum_id=program.id, course_id=c1.id, position=1),
            CurriculumCourse(curriculum_id=program.id, course_id=c2.id, position=2),
        ]
    )
    db.session.commit()
    req = RequirementFactory(job_role=role, course=None, curriculum=program)
    person = UserFactory(job_role=role)
    complete(person, c1, date(2026, 2, 1))

    result = run_requirement_engine(on=TODAY)

    assert result.enrollments == 1  # only the missing course
    assert enrollments_of(person, c2)[0].due_date == date(2026, 7, 1)
    assert status_of(person, req).status == "due_soon"
    complete(person, c2, date(2026, 6, 10))
    row = status_of(person, req, on=date(2026, 6, 11))
    # Valid until the earliest course expires.
    assert (row.status, row.valid_until) == ("compliant", date(2028, 2, 1))


def test_approved_waiver_counts_until_its_end(app):
    role = JobRoleFactory()
    req = RequirementFactory(job_role=role)
    person = UserFactory(job_role=role)
    db.session.add(
        Waiver(
            user_id=person.id,
            requirement_id=req.id,
            reason="Trained at previous employer",
            status="approved",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
        )
    )
    db.session.commit()
    result = run_requirement_engine(on=TODAY)
    assert result.enrollments == 0
    row = status_of(person, req)
    assert (row.status, row.ok) == ("waived", True)
    assert status_of(person, req, on=date(2027, 1, 1)).status == "overdue"
    assert run_requirement_engine(on=date(2027, 1, 1)).enrollments == 1


def test_pending_waiver_does_not_count(app):
    role = JobRoleFactory()
    req = RequirementFactory(job_role=role)
    person = UserFactory(job_role=role)
    db.session.add(
        Waiver(
            user_id=person.id,
            requirement_id=req.id,
            reason="r",
            status="pending",
            starts_on=date(2026, 1, 1),
            ends_on=date(2026, 12, 31),
        )
    )
    db.session.commit()
    run_requirement_engine(on=TODAY)
    assert status_of(person, req).status == "due_soon"


def test_ended_requirement_and_inactive_people_drop_out(app):
    role = JobRoleFactory()
    req = RequirementFactory(job_role=role, effective_to=date(2026, 5, 31))
    person = UserFactory(job_role=role)
    gone = UserFactory(job_role=role, active=False)
    assert run_requirement_engine(on=TODAY).assignments == 0
    assert status_of(person, req) is None
    assert run_requirement_engine(on=date(2026, 5, 1)).assignments == 1
    assert status_of(gone, req, on=date(2026, 5, 1)) is None


def test_snapshot_counts_by_department_and_role(app):
    from app.compliance.models import ComplianceSnapshot
    from app.compliance.snapshots import take_snapshot
    from tests.people.factories import DepartmentFactory

    role = JobRoleFactory()
    dept = DepartmentFactory()
    course = CourseFactory()
    RequirementFactory(job_role=role, course=course)
    done, todo = UserFactory(job_role=role, department=dept), UserFactory(job_role=role)
    complete(done, course, date(2026, 5, 1))
    run_requirement_engine(on=TODAY)
    assert take_snapshot(TODAY) == 3
    assert take_snapshot(TODAY) == 3  # same day again replaces, never doubles
    rows = {
        (s.department_id, s.job_role_id): (s.applicable, s.compliant)
        for s in db.session.scalars(select(ComplianceSnapshot)).all()
    }
    assert rows == {(None, None): (2, 1), (dept.id, None): (1, 1), (None, role.id): (2, 1)}
    assert todo.department_id is None


def test_hire_basis_counts_from_the_requirement_for_people_hired_before_it(app):
    role = JobRoleFactory()
    req = RequirementFactory(
        job_role=role, due_days=30, due_basis="hire", effective_from=date(2026, 5, 1)
    )
    veteran = UserFactory(job_role=role, hire_date=date(2015, 3, 1))
    run_requirement_engine(on=TODAY)
    assert status_of(veteran, req).due_date == date(2026, 5, 31)
