"""GET /api/training/users/<id>/results: submitted and graded results, paginated."""

from __future__ import annotations

from tests.helpers.api import bearer, make_token
from tests.learning.enrollments.conftest import course_with_modules, result_row
from tests.learning.factories import EnrollmentFactory


def test_results_are_paginated_newest_first_with_link_header(client, learner):
    course, (quiz, task) = course_with_modules(("quiz", "assignment"), title="Hazmat")
    enrollment = EnrollmentFactory(user=learner, course=course)
    for n in range(4):
        result_row(enrollment, quiz, attempt_no=n + 1, score=float(5 + n), minutes_ago=50 - n)
    result_row(enrollment, task, status="submitted", minutes_ago=1)
    result_row(enrollment, quiz, attempt_no=9, status="in_progress")  # not a result yet
    result_row(EnrollmentFactory(course=course), quiz)  # somebody else's
    headers = bearer(make_token(learner))
    url = f"/api/training/users/{learner.id}/results"

    first = client.get(f"{url}?per_page=2", headers=headers)
    assert first.status_code == 200
    body = first.get_json()
    assert (body["total"], body["pages"], body["page"], body["per_page"]) == (5, 3, 1, 2)
    newest = body["items"][0]
    assert newest["kind"] == "assignment" and newest["status"] == "submitted"
    assert newest["course"]["title"] == "Hazmat" and newest["module"]["id"] == task.id
    second = body["items"][1]
    assert (second["attempt_no"], second["score"], second["percent"]) == (4, 8.0, 80.0)
    assert second["passed"] is True
    link = first.headers["Link"]
    assert 'rel="next"' in link and 'rel="last"' in link and 'rel="prev"' not in link
    assert f"/api/training/users/{learner.id}/results?" in link and "page=3" in link

    last = client.get(f"{url}?per_page=2&page=3", headers=headers).get_json()
    assert [r["attempt_no"] for r in last["items"]] == [1]
    beyond = client.get(f"{url}?per_page=2&page=9", headers=headers).get_json()
    assert beyond["items"] == [] and beyond["total"] == 5
    clamped = client.get(f"{url}?per_page=5000&page=-3", headers=headers).get_json()
    assert (clamped["page"], clamped["per_page"], len(clamped["items"])) == (1, 100, 5)


def test_results_of_someone_without_any(client, learner):
    url = f"/api/training/users/{learner.id}/results"
    resp = client.get(url, headers=bearer(make_token(learner)))
    assert resp.status_code == 200
    assert resp.get_json()["items"] == [] and resp.get_json()["pages"] == 1
