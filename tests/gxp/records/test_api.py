"""GET /api/v1/training/records and /records/<id>: filters, pagination, scope, errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.extensions import db
from app.learning.models import Enrollment
from tests.helpers.api import bearer, make_token
from tests.learning.factories import CourseFactory
from tests.people.factories import DepartmentFactory, UserFactory

URL = "/api/v1/training/records"


def _get(client, viewer, params=None, url=URL):
    return client.get(url, query_string=params or {}, headers=bearer(make_token(viewer)))


def _ids(resp) -> list[int]:
    assert resp.status_code == 200, resp.get_json()
    return [item["id"] for item in resp.json["items"]]


def _enrol(user, course, status="assigned", completed_at=None, created_at=None, cycle=1):
    e = Enrollment(
        user_id=user.id,
        course_id=course.id,
        cycle=cycle,
        status=status,
        completed_at=completed_at,
        source="manager",
    )
    if created_at is not None:
        e.created_at = created_at
    db.session.add(e)
    db.session.commit()
    return e


def test_hr_lists_every_record_with_its_shape(client, history):
    resp = _get(client, history.hr)
    items = {item["id"]: item for item in resp.json["items"]}
    assert sorted(items) == sorted([history.cycle1.id, history.cycle2.id])
    item = items[history.cycle2.id]
    assert item["user"] == {
        "id": history.person.id,
        "email": "ada.lovelace@example.com",
        "name": "Ada Lovelace",
    }
    assert item["course"]["code"] == "GMP-101"
    assert item["cycle"] == 2 and item["status"] == "completed" and item["score"] == 95
    assert item["source"] == "requirement"
    assert item["certificate_id"] == history.active.id
    assert item["completed_at"].endswith("Z") and item["due_date"]
    assert resp.json["total"] == 2


def test_filters(client, history):
    dept = DepartmentFactory()
    other = UserFactory(department=dept)
    course = CourseFactory()
    assigned = _enrol(other, course, created_at=datetime(2024, 6, 1, 10, tzinfo=UTC))
    done = _enrol(
        other,
        CourseFactory(),
        status="completed",
        completed_at=datetime(2024, 7, 15, 23, 30, tzinfo=UTC),
        created_at=datetime(2023, 1, 1, tzinfo=UTC),
    )
    hr = history.hr
    assert _ids(_get(client, hr, {"user_id": other.id})) == [assigned.id, done.id]
    assert _ids(_get(client, hr, {"department": dept.id})) == [assigned.id, done.id]
    assert _ids(_get(client, hr, {"course_id": course.id})) == [assigned.id]
    assert _ids(_get(client, hr, {"status": "assigned"})) == [assigned.id]
    assert _ids(_get(client, hr, {"user_id": other.id, "status": "completed"})) == [done.id]
    # Dates: completed_at for completed records, created_at for the others; days inclusive.
    window = {"user_id": other.id, "from": "2024-07-15", "to": "2024-07-15"}
    assert _ids(_get(client, hr, window)) == [done.id]
    window = {"user_id": other.id, "from": "2024-05-01", "to": "2024-06-30"}
    assert _ids(_get(client, hr, window)) == [assigned.id]
    assert _ids(_get(client, hr, {"user_id": other.id, "to": "2022-12-31"})) == []
    assert _ids(_get(client, hr, {"user_id": other.id, "from": "2024-07-16"})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "done"}, "status"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2024-13-01"}, "to"),
        ({"from": "2024-05-02", "to": "2024-05-01"}, "to"),
        ({"user_id": "abc"}, "user_id"),
        ({"department": "-1"}, "department"),
        ({"course_id": "1.5"}, "course_id"),
    ],
)
def test_bad_filters_are_a_422_problem(client, history, params, field):
    resp = _get(client, history.hr, params)
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    assert field in resp.json["errors"]


def test_pagination_and_link_header(client, history):
    course = CourseFactory()
    people = [UserFactory() for _ in range(5)]
    made = [_enrol(p, course).id for p in people]
    expected = sorted([history.cycle1.id, history.cycle2.id, *made])
    seen = []
    for page in (1, 2, 3):
        resp = _get(client, history.hr, {"per_page": 3, "page": page})
        seen += _ids(resp)
        assert resp.json["total"] == 7 and resp.json["pages"] == 3
    assert seen == expected  # stable order, nothing twice, nothing missing
    past = _get(client, history.hr, {"per_page": 3, "page": 5})
    assert _ids(past) == [] and resp.json["total"] == past.json["total"] == 7
    link = _get(client, history.hr, {"per_page": 3, "page": 2, "status": "assigned"}).headers[
        "Link"
    ]
    assert 'rel="first"' in link and 'rel="prev"' in link and 'rel="last"' in link
    assert "status=assigned" in link and "per_page=3" in link
    last = _get(client, history.hr, {"per_page": 3, "page": 3}).headers["Link"]
    assert 'rel="next"' not in last


def test_manager_sees_own_and_direct_reports_only(client, history):
    outsider = UserFactory()
    own = _enrol(history.manager, CourseFactory())
    _enrol(outsider, CourseFactory())
    ids = _ids(_get(client, history.manager))
    assert sorted(ids) == sorted([history.cycle1.id, history.cycle2.id, own.id])
    assert _get(client, history.manager, {"user_id": outsider.id}).status_code == 403


def test_employee_sees_only_themselves(client, history):
    colleague = UserFactory()
    mine = _enrol(colleague, CourseFactory())
    _enrol(UserFactory(), CourseFactory())
    assert _ids(_get(client, colleague)) == [mine.id]
    assert _get(client, colleague, {"user_id": history.person.id}).status_code == 403
    assert _get(client, history.person, {"user_id": history.person.id}).status_code == 200


def test_unknown_user_filter_is_404_for_hr_only(client, history):
    assert _get(client, history.hr, {"user_id": 999999}).status_code == 404
    assert _get(client, history.person, {"user_id": 999999}).status_code == 403


def test_one_record_with_its_results(client, history):
    resp = _get(client, history.manager, url=f"{URL}/{history.cycle2.id}")
    assert resp.status_code == 200
    assert resp.json["id"] == history.cycle2.id and resp.json["certificate_id"] == history.active.id
    (result,) = resp.json["results"]
    assert result["module"]["title"] == "GMP final quiz"
    assert (result["kind"], result["attempt_no"], result["score"], result["max_score"]) == (
        "quiz",
        1,
        9.0,
        10.0,
    )
    assert result["passed"] is True and result["graded_by"] is None
    assert _get(client, history.hr, url=f"{URL}/{history.cycle1.id}").json["results"] == []


def test_one_record_access_and_unknown_ids(client, history):
    path = f"{URL}/{history.cycle2.id}"
    assert _get(client, history.person, url=path).status_code == 200
    peer = _get(client, UserFactory(), url=path)
    assert peer.status_code == 403 and peer.mimetype == "application/problem+json"
    missing = _get(client, history.hr, url=f"{URL}/999999")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_records_api_needs_authentication(client, history):
    assert client.get(URL).status_code == 401
    assert client.get(f"{URL}/{history.cycle1.id}").status_code == 401


def test_browser_session_works_too(client, auth, history):
    auth.login(history.person)
    resp = client.get(URL)
    assert sorted(_ids(resp)) == sorted([history.cycle1.id, history.cycle2.id])


def test_list_queries_do_not_grow_with_the_page(client, history, count_queries):
    course = CourseFactory()
    for _ in range(12):
        _enrol(UserFactory(), course)
    token = make_token(history.hr)
    client.get(URL, headers=bearer(token))
    with count_queries() as small:
        client.get(URL, query_string={"per_page": 2}, headers=bearer(token))
    with count_queries() as large:
        resp = client.get(URL, query_string={"per_page": 14}, headers=bearer(token))
    assert len(resp.json["items"]) == 14
    assert len(large) == len(small)
