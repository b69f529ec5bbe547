"""Enrolling a whole team (set-based), and the assign page for one person or a team."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.extensions import db
from app.learning.enrollments import enroll_team
from app.learning.models import Enrollment
from app.platform.errors import Conflict, Forbidden
from tests.learning.enrollments.conftest import audit_rows, count
from tests.learning.factories import CourseFactory, EnrollmentFactory
from tests.people.factories import TeamFactory, UserFactory


@pytest.fixture
def team(app):
    return TeamFactory(name="Packing")


def _enrolled(course) -> set[int]:
    query = select(Enrollment.user_id).where(Enrollment.course_id == course.id)
    return set(db.session.scalars(query))


def test_team_enrolment_creates_one_per_active_member_and_is_idempotent(app, team, count_queries):
    hr = UserFactory(roles=["hr"])
    members = [UserFactory(team=team) for _ in range(4)]
    UserFactory(team=team, active=False)
    outsider = UserFactory(team=TeamFactory())
    course = CourseFactory()
    EnrollmentFactory(user=members[0], course=course)

    with count_queries() as statements:
        counts = enroll_team(team.id, course.id, hr, due_date=date(2031, 1, 15))

    assert (counts.created, counts.already_enrolled, counts.not_allowed) == (3, 1, 0)
    assert _enrolled(course) == {m.id for m in members}
    assert outsider.id not in _enrolled(course)
    # Set-based: the statement count does not grow with the team (one INSERT ... SELECT).
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO TRAINING_ENR")]
    assert len(inserts) == 1
    rows = db.session.scalars(select(Enrollment).where(Enrollment.id.in_(counts.enrollment_ids)))
    for e in rows:
        assert (e.source, e.assigned_by_id, e.due_date, e.status) == (
            "manager",
            hr.id,
            date(2031, 1, 15),
            "assigned",
        )
    # Every created enrollment is traceable in the audit trail.
    audited = {int(a.entity_id) for a in audit_rows("enrollment", "create")}
    assert audited == set(counts.enrollment_ids)

    again = enroll_team(team.id, course.id, hr)
    assert (again.created, again.already_enrolled) == (0, 4)
    assert count(Enrollment, Enrollment.course_id == course.id) == 4
    assert len(audit_rows("enrollment", "create")) == 3


def test_a_manager_reaches_only_direct_reports_in_the_team(app, team):
    boss = UserFactory(roles=["manager"])
    mine = [UserFactory(team=team, manager=boss) for _ in range(2)]
    UserFactory(team=team)  # someone else's report
    course = CourseFactory()
    counts = enroll_team(team.id, course.id, boss)
    assert (counts.created, counts.not_allowed) == (2, 1)
    assert _enrolled(course) == {m.id for m in mine}


def test_team_enrolment_refuses_unpublished_courses_and_plain_employees(app, team):
    UserFactory(team=team)
    hr = UserFactory(roles=["hr"])
    with pytest.raises(Conflict):
        enroll_team(team.id, CourseFactory(status="draft").id, hr)
    with pytest.raises(Forbidden):
        enroll_team(team.id, CourseFactory().id, UserFactory(roles=["employee"]))
    assert count(Enrollment) == 0


def test_assign_page_enrols_a_team_and_flashes_counts(client, signed_in, team):
    trainer = UserFactory(roles=["trainer"])
    for _ in range(3):
        UserFactory(team=team)
    course = CourseFactory(title="Safe Packing")
    token = signed_in(trainer)
    url = f"/enroll/courses/{course.id}/assign"
    page = client.get(url)
    assert page.status_code == 200 and "Packing" in page.get_data(as_text=True)

    resp = client.post(
        url,
        data={"csrf_token": token, "target": "team", "team_id": team.id, "due_date": "2031-05-01"},
        follow_redirects=True,
    )
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Enrolled 3 people in Safe Packing, due 2031-05-01." in html
    resp = client.post(
        url, data={"csrf_token": token, "target": "team", "team_id": team.id}, follow_redirects=True
    )
    assert "Enrolled 0 people in Safe Packing; 3 already enrolled." in resp.get_data(as_text=True)
    assert count(Enrollment) == 3


def test_assign_page_enrols_one_direct_report_for_a_manager(client, signed_in):
    boss = UserFactory(roles=["manager"])
    report = UserFactory(manager=boss, name="Rita Report")
    stranger = UserFactory(name="Sam Stranger")
    course = CourseFactory(title="Cold Chain", self_enroll=False)
    token = signed_in(boss)
    url = f"/enroll/courses/{course.id}/assign"

    html = client.get(url).get_data(as_text=True)
    assert "Rita Report" in html and "Sam Stranger" not in html

    resp = client.post(
        url,
        data={"csrf_token": token, "target": "person", "user_id": report.id},
        follow_redirects=True,
    )
    assert "Enrolled Rita Report in Cold Chain." in resp.get_data(as_text=True)
    # A person who is not the manager's report: refused on the form, nothing written.
    resp = client.post(url, data={"csrf_token": token, "target": "person", "user_id": stranger.id})
    assert resp.status_code == 403
    assert "You may not enrol this person." in resp.get_data(as_text=True)
    assert _enrolled(course) == {report.id}


def test_assign_page_rejects_bad_input_without_writing(client, signed_in):
    hr = UserFactory(roles=["hr"])
    course = CourseFactory()
    token = signed_in(hr)
    url = f"/enroll/courses/{course.id}/assign"
    for data in (
        {"target": "person"},
        {"target": "person", "user_id": hr.id, "due_date": "not-a-date"},
        {"target": "nonsense", "user_id": hr.id},
        {"target": "team", "team_id": 999},
    ):
        resp = client.post(url, data={"csrf_token": token, **data})
        assert resp.status_code == 422, (data, resp.status_code)
    assert count(Enrollment) == 0


@pytest.mark.parametrize(
    "role,expected",
    [
        ("employee", 403),
        ("qa", 403),
        ("seller", 403),
        ("manager", 200),
        ("hr", 200),
        ("trainer", 200),
    ],
)
def test_assign_page_access(client, signed_in, role, expected):
    course = CourseFactory()
    signed_in(UserFactory(roles=[role]))
    assert client.get(f"/enroll/courses/{course.id}/assign").status_code == expected
