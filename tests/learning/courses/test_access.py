"""Role x route matrix for every authoring route, plus the catalog for every role."""

from __future__ import annotations

import pytest

from app.learning import modules, quizzes
from app.people.models import ROLES
from tests.conftest import csrf
from tests.learning.factories import CourseFactory, EnrollmentFactory
from tests.people.factories import UserFactory

ALLOWED = {"admin", "trainer"}


def _routes(trainer) -> list[tuple[str, str, dict]]:
    """Every authoring route with real objects behind it; destructive ones last."""
    course = CourseFactory(status="draft")
    spare = CourseFactory(status="draft")
    text = modules.add_module(course.id, {"kind": "text", "title": "T", "body": "b"}, trainer)
    quiz = modules.add_module(course.id, {"kind": "quiz", "title": "Q"}, trainer)
    question = modules.add_question(
        quiz.id, {"kind": "true_false", "prompt": "?", "answer": {"correct": True}}, trainer
    )
    learner = UserFactory(roles=["employee"])
    enrollment = EnrollmentFactory(user=learner, course=course)
    attempt = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    c, m, q = course.id, text.id, quiz.id
    return [
        ("GET", "/authoring/courses", {}),
        ("GET", "/authoring/courses/new", {}),
        ("POST", "/authoring/courses/new", {"code": "", "title": ""}),
        ("GET", f"/authoring/courses/{c}", {}),
        ("GET", f"/authoring/courses/{c}/edit", {}),
        ("POST", f"/authoring/courses/{c}/edit", {"code": "X-1", "title": "Renamed"}),
        ("POST", f"/authoring/courses/{c}/modules", {"kind": "text", "title": "N", "body": "b"}),
        ("GET", f"/authoring/modules/{m}/edit", {}),
        ("POST", f"/authoring/modules/{m}/edit", {"title": "T2", "body": "b"}),
        ("POST", f"/authoring/modules/{m}/move", {"direction": "down"}),
        ("POST", f"/authoring/modules/{quiz.id}/questions", {"kind": "true_false"}),
        ("GET", f"/authoring/modules/{q}/questions/new", {}),
        ("GET", f"/authoring/questions/{question.id}/edit", {}),
        (
            "POST",
            f"/authoring/questions/{question.id}/edit",
            {"prompt": "?!", "tf_correct": "false"},
        ),
        ("GET", f"/authoring/modules/{q}/attempts", {}),
        ("GET", f"/authoring/attempts/{attempt.id}", {}),
        ("POST", f"/authoring/modules/{q}/attempts/{enrollment.id}/grant", {}),
        ("POST", f"/authoring/questions/{question.id}/delete", {}),
        ("POST", f"/authoring/modules/{m}/delete", {}),
        ("POST", f"/authoring/courses/{c}/publish", {}),
        ("POST", f"/authoring/courses/{c}/retire", {}),
        ("POST", f"/authoring/courses/{spare.id}/delete", {}),
    ]


def _call(client, method, url, data, token):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": token, **data})


@pytest.mark.parametrize("role", ROLES)
def test_authoring_routes_by_role(app, client, auth, role):
    trainer = UserFactory(roles=["trainer"])
    routes = _routes(trainer)
    auth.login(UserFactory(roles=[role]))
    token = csrf(client, "/home")

    for method, url, data in routes:
        status = _call(client, method, url, data, token).status_code
        if role in ALLOWED:
            assert status in (200, 302, 422), (method, url, status)
        else:
            assert status == 403, (method, url, status)


def test_every_authoring_route_is_in_the_matrix(app):
    rules = {
        r.rule
        for r in app.url_map.iter_rules()
        if r.endpoint.startswith("courses.") and r.rule.startswith("/authoring")
    }
    trainer = UserFactory(roles=["trainer"])
    covered = {url for _, url, _ in _routes(trainer)}
    patterns = {
        "/".join("<>" if part.isdigit() else part for part in url.split("/")) for url in covered
    }
    expected = {
        "/".join("<>" if part.startswith("<") else part for part in rule.split("/"))
        for rule in rules
    }
    assert expected == patterns


def test_anonymous_is_sent_to_login(app, client):
    trainer = UserFactory(roles=["trainer"])
    routes = _routes(trainer)
    token = csrf(client, "/login")
    for method, url, data in routes + [("GET", "/courses", {}), ("GET", "/courses/1", {})]:
        resp = _call(client, method, url, data, token)
        assert resp.status_code == 302, (method, url)
        assert "/login" in resp.headers["Location"], (method, url)


@pytest.mark.parametrize("role", ROLES)
def test_catalog_is_open_to_every_role(app, client, auth, role):
    course = CourseFactory(status="published")
    auth.login(UserFactory(roles=[role]))
    assert client.get("/courses").status_code == 200
    assert client.get(f"/courses/{course.id}").status_code == 200
