"""Role x endpoint matrix for the five course endpoints, by token and by browser session."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.learning.models import Course
from tests.conftest import csrf
from tests.helpers.api import ROLES, bearer, make_token
from tests.learning.factories import CourseFactory, ModuleFactory
from tests.people.factories import UserFactory

MANAGERS = {"admin", "trainer"}


def _request(client, endpoint: str, course_id: int, headers: dict):
    item = f"/api/training/courses/{course_id}"
    if endpoint == "list":
        return client.get("/api/training/courses", headers=headers)
    if endpoint == "create":
        body = {"code": "NEW-1", "title": "New course"}
        return client.post("/api/training/courses", json=body, headers=headers)
    if endpoint == "read":
        return client.get(item, headers=headers)
    if endpoint == "update":
        return client.put(item, json={"title": "Renamed"}, headers=headers)
    return client.delete(item, headers=headers)


ALLOWED = {"list": 200, "read": 200, "create": 201, "update": 200, "delete": 204}
WRITES = {"create", "update", "delete"}


@pytest.mark.parametrize("mode", ["token", "session"])
@pytest.mark.parametrize("endpoint", list(ALLOWED))
@pytest.mark.parametrize("role", ROLES)
def test_role_endpoint_matrix(client, auth, role, endpoint, mode):
    course = CourseFactory(title="Original")
    ModuleFactory(course=course, position=1)
    user = UserFactory(roles=[role])
    if mode == "token":
        headers = bearer(make_token(user, ("read", "write", "admin")))
    else:
        auth.login(user)
        headers = {"X-CSRFToken": csrf(client, "/home")}
    resp = _request(client, endpoint, course.id, headers)
    may = endpoint not in WRITES or role in MANAGERS
    expected = ALLOWED[endpoint] if may else 403
    assert resp.status_code == expected, resp.get_data(as_text=True)
    if expected == 403:
        assert resp.mimetype == "application/problem+json"
        db.session.expire_all()
        assert db.session.get(Course, course.id).title == "Original"
        assert db.session.query(Course).count() == 1
