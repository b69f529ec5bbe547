"""Requirements pages: role matrix, add form errors, HTMX inline edit, end, delete."""

from __future__ import annotations

import pytest

from app.compliance.models import CompetencyRequirement
from app.extensions import db
from app.learning.models import Enrollment
from tests.compliance.factories import RequirementFactory
from tests.conftest import csrf
from tests.helpers.api import ROLES
from tests.helpers.jobs import run_queued_jobs
from tests.helpers.records import audit_rows, count
from tests.learning.factories import CourseFactory
from tests.people.factories import JobRoleFactory, UserFactory

HX = {"HX-Request": "true"}
EDITORS = {"admin", "hr", "qa"}
READERS = EDITORS | {"manager"}


@pytest.fixture
def req(app):
    return RequirementFactory(
        job_role=JobRoleFactory(name="Operator"), course=CourseFactory(title="GMP Basics")
    )


def _form(req, **change) -> dict:
    data = {
        "job_role_id": str(req.job_role_id),
        "department_id": "",
        "team_id": "",
        "course_id": str(req.course_id),
        "curriculum_id": "",
        "due_days": "30",
        "due_basis": "assignment",
        "recert_months": "",
        "recert_mode": "relative",
        "recert_anchor_month": "",
        "recert_window_days": "60",
        "grace_days": "0",
        "risk_level": "medium",
        "effective_from": "2000-01-01",
        "effective_to": "",
        "notes": "",
        "reason": "Matrix review Q4",
    }
    data.update(change)
    return data


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, auth, req, role):
    auth.login(UserFactory(roles=[role]))
    page = client.get("/requirements")
    edit = client.get(f"/requirements/{req.id}/edit")
    new = client.get("/requirements/new")
    if role in READERS:
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and "GMP Basics" in body and "Operator" in body
        assert ("Add requirement" in body) == (role in EDITORS)
        assert (f"/requirements/{req.id}/edit" in body) == (role in EDITORS)
    else:
        assert page.status_code == 403
    expected = 200 if role in EDITORS else 403
    assert edit.status_code == expected and new.status_code == expected


def test_manager_cannot_post_changes(client, auth, req):
    auth.login(UserFactory(roles=["manager"]))
    token = csrf(client, "/requirements")
    resp = client.post(
        f"/requirements/{req.id}/edit", data={**_form(req, due_days="1"), "csrf_token": token}
    )
    assert resp.status_code == 403
    assert (
        client.post(f"/requirements/{req.id}/delete", data={"csrf_token": token}).status_code == 403
    )
    db.session.expire_all()
    assert db.session.get(CompetencyRequirement, req.id).due_days == 30


def test_add_requirement_assigns_people_in_scope(app, client, auth):
    role = JobRoleFactory(name="Packer")
    course = CourseFactory(title="Line Clearance")
    person = UserFactory(job_role_id=role.id)
    auth.login(UserFactory(roles=["qa"]))
    token = csrf(client, "/requirements/new")
    data = {
        "job_role_id": str(role.id),
        "course_id": str(course.id),
        "due_days": "14",
        "due_basis": "assignment",
        "recert_mode": "relative",
        "recert_window_days": "60",
        "grace_days": "0",
        "risk_level": "high",
        "effective_from": "2020-01-01",
        "csrf_token": token,
    }
    resp = client.post("/requirements/new", data=data)
    assert resp.status_code == 302
    run_queued_jobs(app)  # with Redis the engine runs on a worker
    body = client.get("/requirements").get_data(as_text=True)
    assert "Requirement added: Packer must hold Line Clearance" in body
    enrollment = db.session.scalar(db.select(Enrollment).where(Enrollment.user_id == person.id))
    assert enrollment.course_id == course.id and enrollment.source == "requirement"
    assert audit_rows("requirement", action="create")


def test_add_form_shows_field_errors(client, auth):
    auth.login(UserFactory(roles=["hr"]))
    token = csrf(client, "/requirements/new")
    resp = client.post(
        "/requirements/new",
        data={
            "due_days": "-3",
            "recert_mode": "calendar",
            "effective_from": "2026-02-01",
            "effective_to": "2026-01-01",
            "csrf_token": token,
        },
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "Pick exactly one of job role, department or team." in body
    assert "Pick exactly one target" in body
    assert "Must be between 0 and 3650." in body
    assert "Calendar mode needs the month" in body
    assert "Must be on or after the date it takes effect." in body
    assert count(CompetencyRequirement) == 0


def test_inline_edit_swaps_the_row_for_a_form_fragment(client, auth, req):
    auth.login(UserFactory(roles=["qa"]))
    resp = client.get(f"/requirements/{req.id}/edit", headers=HX)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "HX-Request" in resp.headers["Vary"]
    assert body.lstrip().startswith(f'<tr id="requirement-{req.id}"')
    assert "<html" not in body and 'name="due_days"' in body and "hx-post=" in body
    # Without htmx the same link is a full page.
    page = client.get(f"/requirements/{req.id}/edit").get_data(as_text=True)
    assert "<html" in page and "End this requirement" in page


def test_inline_save_returns_the_row(client, auth, req):
    auth.login(UserFactory(roles=["qa"]))
    token = csrf(client, "/requirements")
    resp = client.post(
        f"/requirements/{req.id}/edit",
        data={**_form(req, due_days="7", risk_level="high"), "csrf_token": token},
        headers=HX,
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith(f'<tr id="requirement-{req.id}"')
    assert "7 days after assignment" in body and "badge-high" in body
    [row] = audit_rows("requirement", req.id, "update")
    assert row.after["due_days"] == 7 and row.before["due_days"] == 30


def test_inline_save_with_errors_rerenders_the_form(client, auth, req):
    auth.login(UserFactory(roles=["qa"]))
    token = csrf(client, "/requirements")
    resp = client.post(
        f"/requirements/{req.id}/edit",
        data={**_form(req, grace_days="-1", risk_level="extreme"), "csrf_token": token},
        headers=HX,
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200  # htmx swaps 2xx only
    assert 'name="grace_days"' in body and "Must be between 0 and 3650." in body
    assert "One of: low, medium, high." in body
    assert audit_rows("requirement", req.id) == []


def test_full_page_edit_without_js(client, auth, req):
    auth.login(UserFactory(roles=["hr"]))
    token = csrf(client, f"/requirements/{req.id}/edit")
    bad = client.post(
        f"/requirements/{req.id}/edit", data={**_form(req, due_days="x"), "csrf_token": token}
    )
    assert bad.status_code == 422 and "Must be a whole number." in bad.get_data(as_text=True)
    ok = client.post(
        f"/requirements/{req.id}/edit", data={**_form(req, due_days="12"), "csrf_token": token}
    )
    assert ok.status_code == 302
    assert "Requirement saved." in client.get("/requirements").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CompetencyRequirement, req.id).due_days == 12


def test_cancel_returns_the_plain_row(client, auth, req):
    auth.login(UserFactory(roles=["manager"]))
    body = client.get(f"/requirements/{req.id}/row", headers=HX).get_data(as_text=True)
    assert body.lstrip().startswith(f'<tr id="requirement-{req.id}"') and "GMP Basics" in body
    assert client.get(f"/requirements/{req.id}/row").status_code == 302


def test_end_and_delete_buttons(client, auth, req):
    auth.login(UserFactory(roles=["admin"]))
    token = csrf(client, "/requirements")
    resp = client.post(
        f"/requirements/{req.id}/end", data={"effective_to": "2031-03-31", "csrf_token": token}
    )
    assert resp.status_code == 302
    assert "no longer applies after 2031-03-31" in client.get("/requirements").get_data(
        as_text=True
    )
    assert audit_rows("requirement", req.id, "end")

    UserFactory(job_role_id=req.job_role_id)
    from app.compliance.engine import run_requirement_engine

    run_requirement_engine()
    client.post(f"/requirements/{req.id}/delete", data={"csrf_token": token})
    body = client.get("/requirements").get_data(as_text=True)
    assert "End it instead" in body and count(CompetencyRequirement) == 1


def test_filter_fragment_for_htmx(client, auth, req):
    other = RequirementFactory(course=CourseFactory(title="Forklift Safety"))
    auth.login(UserFactory(roles=["qa"]))
    resp = client.get("/requirements?q=forklift", headers=HX)
    body = resp.get_data(as_text=True)
    assert "<html" not in body and "Forklift Safety" in body and "GMP Basics" not in body
    assert f"requirement-{other.id}" in body


def test_list_query_count_does_not_grow_with_rows(client, auth, count_queries):
    auth.login(UserFactory(roles=["qa"]))

    def queries() -> int:
        with count_queries() as statements:
            assert client.get("/requirements").status_code == 200
        return len(statements)

    for _ in range(2):
        RequirementFactory(substitutes=[])
    few = queries()
    for _ in range(8):
        r = RequirementFactory()
        from app.compliance.models import CompetencySubstitute

        db.session.add(CompetencySubstitute(requirement_id=r.id, course_id=CourseFactory().id))
    db.session.commit()
    assert queries() == few


def test_row_describes_calendar_recertification_and_substitutes(client, auth):
    sub = CourseFactory(title="External GMP")
    req = RequirementFactory(
        course=CourseFactory(title="GMP Basics"),
        recert_months=12,
        recert_mode="calendar",
        recert_anchor_month=1,
    )
    from app.compliance.models import CompetencySubstitute

    db.session.add(CompetencySubstitute(requirement_id=req.id, course_id=sub.id))
    db.session.commit()
    auth.login(UserFactory(roles=["manager"]))
    body = client.get("/requirements").get_data(as_text=True)
    assert "Every 12 months, due 1 January" in body and "or External GMP" in body
    assert "How due dates and recertification work" in body


def test_an_edit_asks_why_and_keeps_the_reason_in_the_audit_trail(client, auth):
    from sqlalchemy import select

    from app.platform.audit import AuditLog

    req = RequirementFactory()
    auth.login(UserFactory(roles=["qa"]))
    token = csrf(client, f"/requirements/{req.id}/edit")
    data = {**_form(req, due_days="12", reason=" "), "csrf_token": token}
    resp = client.post(f"/requirements/{req.id}/edit", data=data)
    assert resp.status_code == 422 and "Say why you change this requirement" in resp.text
    data["reason"] = "Due period was entered in weeks, not days"
    assert client.post(f"/requirements/{req.id}/edit", data=data).status_code == 302
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.entity == "requirement", AuditLog.action == "update")
    )
    assert row.reason == "Due period was entered in weeks, not days"
    assert (row.before["due_days"], row.after["due_days"]) == (30, 12)
