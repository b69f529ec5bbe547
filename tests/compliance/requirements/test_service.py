"""Requirement service: validation, audit rows, end/delete rules, engine runs, list and gaps."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.compliance import requirements as svc
from app.compliance.engine import run_requirement_engine
from app.compliance.models import CompetencyRequirement, TrainingAssignment
from app.compliance.statuses import Scope
from app.extensions import db
from app.learning.models import Enrollment
from app.platform.errors import Conflict, Invalid
from tests.compliance.factories import CurriculumFactory, RequirementFactory, WaiverFactory
from tests.helpers.jobs import run_queued_jobs
from tests.helpers.records import audit_rows, count, today
from tests.learning.factories import CourseFactory
from tests.people.factories import DepartmentFactory, JobRoleFactory, TeamFactory, UserFactory


@pytest.fixture
def role(app):
    return JobRoleFactory(name="Operator")


@pytest.fixture
def course(app):
    return CourseFactory(title="GMP Basics", code="GMP-1")


def _data(role, course, **extra):
    return {"job_role_id": role.id, "course_id": course.id, **extra}


def _errors(data, req=None) -> dict:
    with pytest.raises(Invalid) as exc:
        svc.validate_requirement(data, req)
    return exc.value.errors


def test_create_with_defaults_audits_and_runs_the_engine(app, role, course):
    person = UserFactory(job_role_id=role.id)
    UserFactory()  # not in the job role

    req = svc.create_requirement(_data(role, course, substitutes=[CourseFactory().id]))
    run_queued_jobs(app)  # with Redis the engine runs on a worker

    assert (req.due_days, req.due_basis, req.recert_mode, req.risk_level) == (
        30,
        "assignment",
        "relative",
        "medium",
    )
    assert req.effective_from == today()
    [row] = audit_rows("requirement", req.id)
    assert row.action == "create"
    assert row.after["course_id"] == course.id and len(row.after["substitutes"]) == 1
    enrollments = db.session.scalars(db.select(Enrollment)).all()
    assert [(e.user_id, e.course_id, e.source) for e in enrollments] == [
        (person.id, course.id, "requirement")
    ]
    assert count(TrainingAssignment, TrainingAssignment.requirement_id == req.id) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"job_role_id": None}, "scope"),
        ({"department_id": "x"}, "department_id"),
        ({"course_id": None}, "target"),
        ({"curriculum_id": 999}, "curriculum_id"),
        ({"due_days": -1}, "due_days"),
        ({"due_days": ""}, "due_days"),
        ({"due_days": True}, "due_days"),
        ({"due_basis": "birthday"}, "due_basis"),
        ({"recert_months": 0}, "recert_months"),
        ({"recert_months": 121}, "recert_months"),
        ({"recert_mode": "sometimes"}, "recert_mode"),
        ({"recert_mode": "calendar"}, "recert_anchor_month"),
        ({"recert_mode": "calendar", "recert_anchor_month": 13}, "recert_anchor_month"),
        ({"recert_window_days": -5}, "recert_window_days"),
        ({"grace_days": "a"}, "grace_days"),
        ({"risk_level": "extreme"}, "risk_level"),
        ({"effective_from": "soon"}, "effective_from"),
        ({"effective_from": "2026-05-01", "effective_to": "2026-04-30"}, "effective_to"),
        ({"substitutes": ["abc"]}, "substitutes"),
        ({"substitutes": [424242]}, "substitutes"),
        ({"notes": "x" * 2001}, "notes"),
    ],
)
def test_validation_errors_name_the_field(app, role, course, change, field):
    errors = _errors({**_data(role, course), **change})
    assert field in errors, errors


def test_two_scopes_or_two_targets_are_refused(app, role, course):
    dept = DepartmentFactory()
    assert "scope" in _errors(_data(role, course, department_id=dept.id))
    program = CurriculumFactory()
    assert "target" in _errors(_data(role, course, curriculum_id=program.id))


def test_substitutes_cannot_be_the_target_or_on_a_program(app, role, course):
    assert "substitutes" in _errors(_data(role, course, substitutes=[course.id]))
    program = CurriculumFactory()
    data = {"job_role_id": role.id, "curriculum_id": program.id, "substitutes": [course.id]}
    assert "substitutes" in _errors(data)


def test_calendar_mode_keeps_its_month_and_relative_drops_it(app, role, course):
    clean = svc.validate_requirement(
        _data(role, course, recert_mode="calendar", recert_anchor_month="1", recert_months="12")
    )
    assert (clean["recert_anchor_month"], clean["recert_months"]) == (1, 12)
    clean = svc.validate_requirement(_data(role, course, recert_anchor_month="3"))
    assert clean["recert_anchor_month"] is None


def test_nothing_is_written_when_invalid(app, role, course):
    with pytest.raises(Invalid):
        svc.create_requirement(_data(role, course, due_days=-1))
    assert count(CompetencyRequirement) == 0 and audit_rows("requirement") == []


def test_update_audits_before_and_after_with_substitutes(app, role, course):
    req = RequirementFactory(job_role=role, course=course)
    sub = CourseFactory()

    svc.update_requirement(req.id, {"due_days": 10, "substitutes": [sub.id]})

    [row] = audit_rows("requirement", req.id, "update")
    assert row.before["due_days"] == 30 and row.after["due_days"] == 10
    assert row.before["substitutes"] == [] and row.after["substitutes"] == [sub.id]
    # An unchanged save writes nothing.
    svc.update_requirement(req.id, {"due_days": "10"})
    assert len(audit_rows("requirement", req.id)) == 1


def test_moving_the_scope_assigns_the_new_people(app, role, course):
    req = RequirementFactory(job_role=role, course=course)
    team = TeamFactory()
    member = UserFactory(team_id=team.id)

    svc.update_requirement(req.id, {"team_id": team.id})
    run_queued_jobs(app)

    req = svc.get_requirement(req.id)
    assert (req.job_role_id, req.team_id) == (None, team.id)
    assert count(Enrollment, Enrollment.user_id == member.id) == 1


def test_narrowing_change_does_not_run_the_engine(app, role, course, monkeypatch):
    req = RequirementFactory(job_role=role, course=course)
    calls = []
    monkeypatch.setattr(svc, "request_engine_run", lambda *a, **k: calls.append((a, k)))
    svc.update_requirement(req.id, {"due_days": 5, "risk_level": "high"})
    assert calls == []
    svc.update_requirement(req.id, {"recert_window_days": 90})
    assert calls == [
        (("requirement changed",), {"requirement_ids": [req.id], "requested_by_id": None})
    ]


def test_end_sets_effective_to_and_is_audited(app, role, course):
    req = RequirementFactory(job_role=role, course=course)
    ended = svc.end_requirement(req.id, date(2030, 1, 31))
    assert ended.effective_to == date(2030, 1, 31)
    [row] = audit_rows("requirement", req.id, "end")
    assert row.before["effective_to"] is None and row.after["effective_to"] == "2030-01-31"
    with pytest.raises(Conflict):
        svc.end_requirement(req.id, date(2030, 2, 1))
    with pytest.raises(Invalid):
        svc.end_requirement(req.id, date(1999, 1, 1))


def test_delete_only_without_assignments(app, role, course):
    unused = RequirementFactory(job_role=role, course=course)
    svc.delete_requirement(unused.id)
    assert count(CompetencyRequirement) == 0
    assert audit_rows("requirement", unused.id, "delete")[0].before["course_id"] == course.id

    used = RequirementFactory(job_role=role, course=course)
    UserFactory(job_role_id=role.id)
    run_requirement_engine(scope=Scope(requirement_ids=[used.id]))
    with pytest.raises(Conflict, match="effective-to"):
        svc.delete_requirement(used.id)
    assert count(CompetencyRequirement) == 1


def test_delete_refused_when_a_waiver_exists(app, role, course):
    req = RequirementFactory(job_role=role, course=course)
    WaiverFactory(requirement=req)
    with pytest.raises(Conflict):
        svc.delete_requirement(req.id)


def test_list_filters(app, role, course):
    other_role = JobRoleFactory()
    dept = DepartmentFactory()
    a = RequirementFactory(job_role=role, course=course)
    b = RequirementFactory(job_role=other_role, course=CourseFactory(title="Forklift"))
    c = RequirementFactory(
        job_role=None, department=dept, course=None, curriculum=CurriculumFactory(title="Onboard")
    )
    ended = RequirementFactory(job_role=role, course=CourseFactory(), effective_to=date(2001, 1, 1))

    def ids(**kw):
        query = svc.RequirementQuery(**kw)
        return [r.id for r in svc.list_requirements(query).items]

    assert ids() == [a.id, b.id, c.id, ended.id]
    assert ids(scope_kind="job_role", scope_id=role.id) == [a.id, ended.id]
    assert ids(scope_kind="department") == [c.id]
    assert ids(course_id=course.id) == [a.id]
    assert ids(curriculum_id=c.curriculum_id) == [c.id]
    assert ids(q="fork") == [b.id]
    assert ids(q="onboard") == [c.id]
    assert ids(active_on=today()) == [a.id, b.id, c.id]
    assert svc.list_requirements(svc.RequirementQuery(per_page=2)).total == 4


def test_query_from_args_reads_the_page_menus(app):
    q = svc.RequirementQuery.from_args(
        {"scope": "team:4", "target": "program:2", "active_on": "bad", "page": "x"}
    )
    assert (q.scope_kind, q.scope_id, q.curriculum_id, q.active_on, q.page) == (
        "team",
        4,
        2,
        None,
        1,
    )


def test_gaps_list_people_not_ok(app, role, course):
    req = RequirementFactory(job_role=role, course=course)
    alice = UserFactory(name="Alice", job_role_id=role.id)
    bob = UserFactory(name="Bob", job_role_id=role.id)
    run_requirement_engine(scope=Scope(requirement_ids=[req.id]))
    WaiverFactory(
        user=bob,
        requirement=req,
        status="approved",
        starts_on=today() - timedelta(days=1),
        ends_on=today() + timedelta(days=10),
    )

    page = svc.gaps(today(), Scope())

    assert page.total == 1
    [person] = page.items
    assert (person.user_id, person.name) == (alice.id, "Alice")
    [gap] = person.gaps
    assert (gap.requirement_id, gap.target_kind, gap.target_id, gap.status) == (
        req.id,
        "course",
        course.id,
        "due_soon",
    )
    assert gap.due_date == today() + timedelta(days=30)
