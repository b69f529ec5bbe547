"""Walk the URL map: every route has an access rule and CSRF checks, and no GET writes."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.learning.factories import (
    CourseFactory,
    EnrollmentFactory,
    ModuleFactory,
    QuizQuestionFactory,
)
from tests.people.factories import DepartmentFactory, JobRoleFactory, TeamFactory, UserFactory

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _digest() -> str:
    """Hash every row of every table: equal digests mean nothing was written."""
    h = hashlib.sha256()
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(text(f"SELECT * FROM {table.name} ORDER BY 1")).all()  # noqa: S608
        h.update(f"{table.name}:{rows!r}".encode())
    return h.hexdigest()


@pytest.fixture
def world(app):
    """One of everything, so every URL with an id points at something real."""
    admin = UserFactory(roles=["admin", "hr", "qa", "trainer", "manager"])
    dept = DepartmentFactory()
    team = TeamFactory(department=dept)
    job_role = JobRoleFactory()
    course = CourseFactory()
    module = ModuleFactory(course=course, position=1)
    quiz = ModuleFactory(course=course, position=2, kind="quiz")
    question = QuizQuestionFactory(module=quiz)
    EnrollmentFactory(user=admin, course=course)
    ids = {
        "course_id": course.id,
        "module_id": module.id,
        "user_id": admin.id,
        "department_id": dept.id,
        "team_id": team.id,
        "job_role_id": job_role.id,
        "question_id": question.id,
        "id": course.id,
        "token_id": 1,
    }
    return admin, ids


def _url(rule, ids) -> str:
    values = {arg: ids.get(arg, 1) for arg in rule.arguments}
    if "token" in rule.arguments:
        values["token"] = "not-a-token"
    for name, conv in rule._converters.items():
        if type(conv).__name__ in ("UnicodeConverter", "PathConverter") and name != "token":
            values[name] = str(values[name])
    return rule.build(values, append_unknown=False)[1]


def test_every_route_has_an_access_rule(app):
    missing = [
        r.endpoint
        for r in _rules(app)
        if not hasattr(app.view_functions[r.endpoint], "access_rule")
    ]
    assert missing == [], f"routes without an access rule: {missing}"


def test_no_get_route_changes_the_database(app, client, auth, world):
    admin, ids = world
    auth.login(admin)
    before = _digest()
    failures = []
    for rule in _rules(app):
        if "GET" not in rule.methods:
            continue
        url = _url(rule, ids)
        resp = client.get(url)
        if resp.status_code >= 500:
            failures.append((url, resp.status_code))
        db.session.expire_all()
        if _digest() != before:
            failures.append((url, "wrote to the database"))
            before = _digest()
    assert failures == []


def test_every_state_changing_route_refuses_a_missing_csrf_token(app, client, auth, world):
    admin, ids = world
    auth.login(admin)
    before = _digest()
    failures = []
    for rule in _rules(app):
        for method in sorted(rule.methods & WRITE_METHODS):
            url = _url(rule, ids)
            resp = client.open(url, method=method, data={"name": "x"})
            if resp.status_code != 400:
                failures.append((method, url, resp.status_code))
            db.session.expire_all()
            if _digest() != before:
                failures.append((method, url, "wrote to the database"))
                before = _digest()
    assert failures == []
