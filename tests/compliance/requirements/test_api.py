"""/api/v1/training/competency: roles, validation (422), CRUD, delete conflict, gaps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.compliance.engine import run_requirement_engine
from app.compliance.models import CompetencyRequirement
from app.learning.models import Enrollment
from tests.compliance.factories import RequirementFactory, WaiverFactory
from tests.conftest import csrf
from tests.helpers.api import ROLES, bearer, make_token
from tests.helpers.jobs import run_queued_jobs
from tests.helpers.records import audit_rows, count, today
from tests.learning.factories import CourseFactory
from tests.people.factories import DepartmentFactory, JobRoleFactory, UserFactory

URL = "/api/v1/training/competency"
EDITORS = {"admin", "hr", "qa"}
READERS = EDITORS | {"manager"}


def _headers(role, scopes=("read", "write")):
    return bearer(make_token(UserFactory(roles=[role]), scopes))


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, role):
    role_unit, course = JobRoleFactory(), CourseFactory()
    h = _headers(role)
    listed = client.get(URL, headers=h)
    created = client.post(
        URL, json={"job_role_id": role_unit.id, "course_id": course.id}, headers=h
    )
    assert listed.status_code == (200 if role in READERS else 403)
    if role in EDITORS:
        assert created.status_code == 201, created.get_json()
        assert created.headers["Location"].endswith(f"{URL}/{created.json['id']}")
    else:
        assert created.status_code == 403 and created.mimetype == "application/problem+json"
        assert count(CompetencyRequirement) == 0


def test_write_needs_the_write_scope(client):
    h = _headers("qa", ("read",))
    resp = client.post(URL, json={"job_role_id": JobRoleFactory().id, "course_id": 1}, headers=h)
    assert resp.status_code == 403


def test_browser_session_write_needs_csrf_header(client, auth):
    role, course = JobRoleFactory(), CourseFactory()
    auth.login(UserFactory(roles=["hr"]))
    body = {"job_role_id": role.id, "course_id": course.id}
    assert client.post(URL, json=body).status_code == 400
    token = csrf(client, "/home")
    assert client.post(URL, json=body, headers={"X-CSRFToken": token}).status_code == 201


def test_create_validation_is_a_422_problem(client):
    h = _headers("qa")
    resp = client.post(
        URL,
        json={"due_days": -1, "recert_mode": "calendar", "substitutes": "x,y"},
        headers=h,
    )
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert {"scope", "target", "due_days", "recert_anchor_month", "substitutes"} <= set(
        resp.json["errors"]
    )
    assert client.post(URL, data="nope", headers=h).status_code == 400


def test_create_runs_the_engine_and_returns_the_row(app, client):
    role, course = JobRoleFactory(name="Operator"), CourseFactory(code="SOP-9")
    person = UserFactory(job_role_id=role.id)
    resp = client.post(
        URL,
        json={
            "job_role_id": role.id,
            "course_id": course.id,
            "due_days": 10,
            "recert_months": 12,
            "recert_mode": "calendar",
            "recert_anchor_month": 1,
            "effective_from": "2020-01-01",
        },
        headers=_headers("hr"),
    )
    body = resp.json
    assert resp.status_code == 201
    run_queued_jobs(app)  # with Redis the engine runs on a worker
    assert (body["scope_kind"], body["scope_name"], body["target_code"]) == (
        "job_role",
        "Operator",
        "SOP-9",
    )
    assert body["recert_anchor_month"] == 1 and body["effective_from"] == "2020-01-01"
    enrollment = Enrollment.query.filter_by(user_id=person.id).one()
    assert enrollment.source == "requirement" and enrollment.due_date == today() + timedelta(
        days=10
    )


def test_get_put_delete(client):
    req = RequirementFactory()
    h = _headers("admin")
    assert client.get(f"{URL}/{req.id}", headers=h).json["id"] == req.id
    dept = DepartmentFactory()
    put = client.put(f"{URL}/{req.id}", json={"department_id": dept.id, "id": 77}, headers=h)
    assert put.status_code == 200
    assert (put.json["scope_kind"], put.json["job_role_id"]) == ("department", None)
    assert audit_rows("requirement", req.id, "update")
    bad = client.put(f"{URL}/{req.id}", json={"effective_to": "1999-01-01"}, headers=h)
    assert bad.status_code == 422 and "effective_to" in bad.json["errors"]
    assert client.delete(f"{URL}/{req.id}", headers=h).status_code == 204
    assert client.get(f"{URL}/{req.id}", headers=h).status_code == 404


def test_delete_with_assignments_is_a_409(client):
    req = RequirementFactory()
    UserFactory(job_role_id=req.job_role_id)
    run_requirement_engine()
    resp = client.delete(f"{URL}/{req.id}", headers=_headers("qa"))
    assert resp.status_code == 409 and "effective-to" in resp.json["detail"]


def test_list_filters_and_pages(client):
    role = JobRoleFactory()
    RequirementFactory(job_role=role, course=CourseFactory(title="Alpha"))
    RequirementFactory(course=CourseFactory(title="Beta"))
    h = _headers("manager", ("read",))
    page = client.get(f"{URL}?scope_kind=job_role&scope_id={role.id}", headers=h).json
    assert [r["target_title"] for r in page["items"]] == ["Alpha"]
    resp = client.get(f"{URL}?per_page=1&q=a", headers=h)
    assert (
        resp.json["total"] == 2 and resp.json["pages"] == 2 and 'rel="next"' in resp.headers["Link"]
    )


def _gap_world():
    dept = DepartmentFactory()
    role = JobRoleFactory()
    req = RequirementFactory(job_role=role, course=CourseFactory(title="GMP"))
    boss = UserFactory(roles=["manager"])
    report = UserFactory(
        name="Rita", job_role_id=role.id, manager_id=boss.id, department_id=dept.id
    )
    other = UserFactory(name="Otto", job_role_id=role.id)
    waived = UserFactory(name="Wanda", job_role_id=role.id, department_id=dept.id)
    run_requirement_engine()
    WaiverFactory(
        user=waived,
        requirement=req,
        status="approved",
        starts_on=today() - timedelta(days=1),
        ends_on=today() + timedelta(days=30),
    )
    return dept, req, boss, report, other


def test_gaps_for_hr(client):
    dept, req, _, report, other = _gap_world()
    h = _headers("qa", ("read",))
    body = client.get(f"{URL}/gaps", headers=h).json
    assert [p["user_name"] for p in body["items"]] == ["Otto", "Rita"]
    gap = body["items"][1]["gaps"][0]
    assert (gap["requirement_id"], gap["target_title"], gap["status"]) == (
        req.id,
        "GMP",
        "due_soon",
    )
    assert gap["due_date"] == (today() + timedelta(days=30)).isoformat()
    only = client.get(f"{URL}/gaps?department={dept.id}", headers=h).json
    assert [p["user_id"] for p in only["items"]] == [report.id]
    one = client.get(f"{URL}/gaps?user_id={other.id}", headers=h).json
    assert [p["user_id"] for p in one["items"]] == [other.id]
    paged = client.get(f"{URL}/gaps?per_page=1&page=2", headers=h).json
    assert (paged["total"], [p["user_name"] for p in paged["items"]]) == (2, ["Rita"])
    assert client.get(f"{URL}/gaps?user_id=x", headers=h).status_code == 422


def test_gaps_managers_see_direct_reports_only(client):
    _, _, boss, report, other = _gap_world()
    h = bearer(make_token(boss, ("read",)))
    body = client.get(f"{URL}/gaps", headers=h).json
    assert [p["user_id"] for p in body["items"]] == [report.id]
    assert client.get(f"{URL}/gaps?user_id={other.id}", headers=h).json["items"] == []


def test_gaps_forbidden_for_employees(client):
    assert client.get(f"{URL}/gaps", headers=_headers("employee", ("read",))).status_code == 403
