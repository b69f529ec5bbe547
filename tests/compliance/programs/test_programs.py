"""Programs: service validation and audit, course order, delete rule, pages and API."""

from __future__ import annotations

import pytest

from app.compliance import programs as svc
from app.compliance.models import Curriculum, CurriculumCourse
from app.extensions import db
from app.learning.models import Enrollment
from app.platform.errors import Conflict, Invalid
from tests.compliance.factories import CurriculumFactory, RequirementFactory
from tests.conftest import csrf
from tests.helpers.api import ROLES, bearer, make_token
from tests.helpers.jobs import run_queued_jobs
from tests.helpers.records import audit_rows, count
from tests.learning.factories import CourseFactory
from tests.people.factories import JobRoleFactory, UserFactory

MANAGERS = {"admin", "hr", "qa", "trainer"}
HX = {"HX-Request": "true"}


def _ids(program_id):
    return svc.course_ids(svc.get_program(program_id))


# --- service -------------------------------------------------------------------------------


def test_create_with_courses_is_audited(app):
    a, b = CourseFactory(), CourseFactory()
    program = svc.create_program(
        {
            "code": "ONB-1",
            "title": "Onboarding",
            "validity_months": "24",
            "course_ids": [b.id, a.id],
        }
    )
    assert (program.status, program.validity_months) == ("active", 24)
    assert _ids(program.id) == [b.id, a.id]
    [row] = audit_rows("program", program.id)
    assert row.action == "create" and row.after["course_ids"] == [b.id, a.id]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "has space"}, "code"),
        ({"code": "dup"}, "code"),
        ({"title": " "}, "title"),
        ({"validity_months": 0}, "validity_months"),
        ({"validity_months": "many"}, "validity_months"),
        ({"status": "gone"}, "status"),
        ({"course_ids": [424242]}, "course_ids"),
        ({"course_ids": "1,1"}, "course_ids"),
    ],
)
def test_validation(app, change, field):
    CurriculumFactory(code="DUP")
    with pytest.raises(Invalid) as exc:
        svc.create_program({"code": "P1", "title": "T", **change})
    assert field in exc.value.errors
    assert count(Curriculum) == 1


def test_reorder_add_remove_are_audited(app):
    a, b, c = CourseFactory(), CourseFactory(), CourseFactory()
    program = svc.create_program({"code": "P", "title": "P", "course_ids": [a.id, b.id]})
    svc.move_program_course(program.id, b.id, "up")
    assert _ids(program.id) == [b.id, a.id]
    svc.add_program_course(program.id, c.id)
    svc.remove_program_course(program.id, b.id)
    assert _ids(program.id) == [a.id, c.id]
    positions = db.session.scalars(
        db.select(CurriculumCourse.position)
        .where(CurriculumCourse.curriculum_id == program.id)
        .order_by(CurriculumCourse.position)
    ).all()
    assert positions == [1, 2]
    updates = audit_rows("program", program.id, "update")
    assert [u.after["course_ids"] for u in updates] == [
        [b.id, a.id],
        [b.id, a.id, c.id],
        [a.id, c.id],
    ]
    with pytest.raises(Invalid):
        svc.add_program_course(program.id, a.id)


def test_adding_a_course_to_a_required_program_enrols_people(app):
    role = JobRoleFactory()
    first = CourseFactory()
    program = svc.create_program({"code": "P", "title": "P", "course_ids": [first.id]})
    RequirementFactory(job_role=role, course=None, curriculum_id=program.id)
    person = UserFactory(job_role_id=role.id)
    extra = CourseFactory()

    svc.add_program_course(program.id, extra.id)
    run_queued_jobs(app)  # with Redis the engine runs on a worker

    courses = db.session.scalars(
        db.select(Enrollment.course_id).where(Enrollment.user_id == person.id)
    ).all()
    assert extra.id in courses


def test_delete_refused_when_required(app):
    program = CurriculumFactory()
    req = RequirementFactory(course=None, curriculum=program)
    with pytest.raises(Conflict):
        svc.delete_program(program.id)
    db.session.delete(req)
    db.session.commit()
    svc.delete_program(program.id)
    assert count(Curriculum) == 0 and audit_rows("program", program.id, "delete")


# --- pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_pages_role_matrix(client, auth, role):
    program = CurriculumFactory(title="Cleanroom Program")
    auth.login(UserFactory(roles=[role]))
    index = client.get("/programs")
    edit = client.get(f"/programs/{program.id}")
    if role in MANAGERS:
        assert index.status_code == 200 and "Cleanroom Program" in index.get_data(as_text=True)
        assert edit.status_code == 200
    else:
        assert index.status_code == 403 and edit.status_code == 403


def test_create_page_errors_then_success(client, auth):
    auth.login(UserFactory(roles=["trainer"]))
    token = csrf(client, "/programs/new")
    bad = client.post("/programs/new", data={"code": "", "title": "", "csrf_token": token})
    assert bad.status_code == 422 and bad.get_data(as_text=True).count("Required.") == 2
    ok = client.post(
        "/programs/new",
        data={"code": "CR-1", "title": "Cleanroom", "status": "draft", "csrf_token": token},
    )
    assert ok.status_code == 302
    program = db.session.scalar(db.select(Curriculum))
    assert (program.code, program.status) == ("CR-1", "draft")


def test_course_picking_with_and_without_htmx(client, auth):
    a, b = CourseFactory(title="Gowning"), CourseFactory(title="Cleaning")
    program = CurriculumFactory()
    auth.login(UserFactory(roles=["qa"]))
    token = csrf(client, f"/programs/{program.id}")
    resp = client.post(
        f"/programs/{program.id}/courses", data={"course_id": str(a.id), "csrf_token": token}
    )
    assert resp.status_code == 302
    frag = client.post(
        f"/programs/{program.id}/courses",
        data={"course_id": str(b.id), "csrf_token": token},
        headers=HX,
    )
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body
    assert body.index("Gowning") < body.index("Cleaning")
    moved = client.post(
        f"/programs/{program.id}/courses/{b.id}/move",
        data={"direction": "up", "csrf_token": token},
        headers=HX,
    ).get_data(as_text=True)
    assert moved.index("Cleaning") < moved.index("Gowning")
    client.post(f"/programs/{program.id}/courses/{a.id}/remove", data={"csrf_token": token})
    assert _ids(program.id) == [b.id]


def test_delete_page_shows_conflict(client, auth):
    program = CurriculumFactory()
    RequirementFactory(course=None, curriculum=program)
    auth.login(UserFactory(roles=["hr"]))
    token = csrf(client, f"/programs/{program.id}")
    resp = client.post(f"/programs/{program.id}/delete", data={"csrf_token": token})
    assert resp.status_code == 302
    assert "retire it" in client.get(f"/programs/{program.id}").get_data(as_text=True)
    assert count(Curriculum) == 1


def test_list_query_count_does_not_grow(client, auth, count_queries):
    auth.login(UserFactory(roles=["admin"]))

    def queries():
        with count_queries() as statements:
            assert client.get("/programs").status_code == 200
        return len(statements)

    svc.create_program({"code": "A", "title": "A", "course_ids": [CourseFactory().id]})
    few = queries()
    for i in range(6):
        ids = [CourseFactory().id, CourseFactory().id]
        svc.create_program({"code": f"B{i}", "title": f"B{i}", "course_ids": ids})
    assert queries() == few


# --- API -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_api_role_matrix(client, role):
    course = CourseFactory()
    token = make_token(UserFactory(roles=[role]), ("read", "write"))
    listed = client.get("/api/v1/training/programs", headers=bearer(token))
    assert listed.status_code == 200
    resp = client.post(
        "/api/v1/training/programs",
        json={"code": "API-1", "title": "Via API", "course_ids": [course.id]},
        headers=bearer(token),
    )
    if role in MANAGERS:
        assert resp.status_code == 201, resp.get_json()
        assert resp.json["course_ids"] == [course.id]
        assert resp.headers["Location"].endswith(f"/api/v1/training/programs/{resp.json['id']}")
    else:
        assert resp.status_code == 403 and resp.mimetype == "application/problem+json"


def test_api_crud(client):
    a, b = CourseFactory(), CourseFactory()
    token = make_token(UserFactory(roles=["qa"]), ("read", "write"))
    h = bearer(token)
    created = client.post(
        "/api/v1/training/programs", json={"code": "X", "title": "X"}, headers=h
    ).json
    url = f"/api/v1/training/programs/{created['id']}"
    put = client.put(url, json={"course_ids": [b.id, a.id], "validity_months": 12}, headers=h)
    assert put.status_code == 200
    assert put.json["course_ids"] == [b.id, a.id] and put.json["validity_months"] == 12
    assert [c["position"] for c in put.json["courses"]] == [1, 2]
    got = client.get(url, headers=h).json
    assert got["courses"][0]["id"] == b.id
    page = client.get("/api/v1/training/programs?q=x", headers=h)
    assert page.json["total"] == 1 and "Link" in page.headers
    bad = client.put(url, json={"validity_months": -1}, headers=h)
    assert bad.status_code == 422 and "validity_months" in bad.json["errors"]
    assert bad.mimetype == "application/problem+json"
    RequirementFactory(course=None, curriculum_id=created["id"])
    assert client.delete(url, headers=h).status_code == 409
    assert client.get("/api/v1/training/programs/999", headers=h).status_code == 404


def test_edit_page_saves_and_audits_the_program(client, auth):
    program = CurriculumFactory(title="Warehouse basics", validity_months=12)
    auth.login(UserFactory(roles=["qa"]))
    path = f"/programs/{program.id}"
    data = {
        "csrf_token": csrf(client, path),
        "code": program.code,
        "title": "Warehouse essentials",
        "description": "",
        "validity_months": "24",
        "status": "active",
    }
    bad = client.post(path, data={**data, "title": ""})
    assert bad.status_code == 422
    assert client.post(path, data=data).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Curriculum, program.id)
    assert (saved.title, saved.validity_months) == ("Warehouse essentials", 24)
    (row,) = audit_rows("program", program.id, "update")
    assert row.before["title"] == "Warehouse basics" and row.after["validity_months"] == 24
