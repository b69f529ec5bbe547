"""Courses API behaviour: shapes, validation, conflicts, pagination, filters, errors."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.learning.models import Course
from app.platform.audit import AuditLog
from tests.helpers.api import bearer, make_token
from tests.learning.factories import CourseFactory, EnrollmentFactory, ModuleFactory
from tests.people.factories import UserFactory

COURSES = "/api/training/courses"
COURSE_KEYS = {
    "id", "code", "title", "summary", "category", "tags", "level", "language",
    "estimated_minutes", "status", "version", "passing_score", "validity_months",
    "mandatory", "is_onboarding", "self_enroll", "created_at", "updated_at",
}  # fmt: skip


@pytest.fixture
def h(trainer_token):
    """Headers of a trainer with a read+write token."""
    return bearer(trainer_token)


@pytest.fixture
def learner(app):
    return bearer(make_token(UserFactory(roles=["employee"]), ("read",)))


def counts() -> tuple[int, int]:
    courses = db.session.scalar(select(func.count()).select_from(Course))
    audits = db.session.scalar(select(func.count()).select_from(AuditLog))
    return courses, audits


def assert_problem(resp, status: int):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert "type" in body
    return body


# --- shape -------------------------------------------------------------------------------------


def test_course_json_shape(client, h):
    course = CourseFactory(
        code="QA-7", tags=",gmp,safety,", validity_months=12, mandatory=True, estimated_minutes=45
    )
    ModuleFactory(course=course, position=2, title="Second", kind="quiz", estimated_minutes=5)
    ModuleFactory(course=course, position=1, title="First", kind="text", required=False)
    body = client.get(f"{COURSES}/{course.id}", headers=h).get_json()
    assert set(body) == COURSE_KEYS | {"modules"}
    assert body["tags"] == ["gmp", "safety"]
    assert body["validity_months"] == 12 and body["mandatory"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["created_at"])
    assert [(m["position"], m["title"], m["kind"]) for m in body["modules"]] == [
        (1, "First", "text"),
        (2, "Second", "quiz"),
    ]
    assert set(body["modules"][0]) == {
        "id", "position", "kind", "title", "required", "estimated_minutes",
    }  # fmt: skip
    assert body["modules"][0]["required"] is False
    listed = client.get(COURSES, headers=h).get_json()["items"][0]
    assert set(listed) == COURSE_KEYS


def test_create_normalises_and_returns_full_course(client, h):
    body = {
        "code": "sop-12",
        "title": "  SOP 12 ",
        "tags": ["GMP", "gmp", "Cleanroom"],
        "level": "advanced",
        "language": "de",
        "estimated_minutes": 90,
        "passing_score": 70,
        "validity_months": None,
        "mandatory": True,
        "is_onboarding": False,
        "self_enroll": False,
    }
    resp = client.post(COURSES, json=body, headers=h)
    assert resp.status_code == 201
    out = resp.get_json()
    assert out["code"] == "SOP-12" and out["title"] == "SOP 12"
    assert out["tags"] == ["cleanroom", "gmp"]
    assert (out["level"], out["language"], out["estimated_minutes"]) == ("advanced", "de", 90)
    assert out["status"] == "draft" and out["version"] == 1 and out["modules"] == []


# --- 422: each bad field, nothing written --------------------------------------------------------

BAD_CREATE = [
    ({"title": "No code"}, "code"),
    ({"code": "", "title": "x"}, "code"),
    ({"code": "has space", "title": "x"}, "code"),
    ({"code": "A1"}, "title"),
    ({"code": "A1", "title": "x" * 201}, "title"),
    ({"code": "A1", "title": ["list"]}, "title"),
    ({"code": "A1", "title": 12}, "title"),
    ({"code": "A1", "title": "x", "summary": "s" * 5001}, "summary"),
    ({"code": "A1", "title": "x", "category": "c" * 81}, "category"),
    ({"code": "A1", "title": "x", "tags": [1, 2]}, "tags"),
    ({"code": "A1", "title": "x", "tags": {"a": 1}}, "tags"),
    ({"code": "A1", "title": "x", "level": "expert"}, "level"),
    ({"code": "A1", "title": "x", "language": "english"}, "language"),
    ({"code": "A1", "title": "x", "estimated_minutes": "abc"}, "estimated_minutes"),
    ({"code": "A1", "title": "x", "estimated_minutes": "30"}, "estimated_minutes"),
    ({"code": "A1", "title": "x", "estimated_minutes": 0}, "estimated_minutes"),
    ({"code": "A1", "title": "x", "estimated_minutes": 2.5}, "estimated_minutes"),
    ({"code": "A1", "title": "x", "estimated_minutes": True}, "estimated_minutes"),
    ({"code": "A1", "title": "x", "passing_score": 101}, "passing_score"),
    ({"code": "A1", "title": "x", "passing_score": "high"}, "passing_score"),
    ({"code": "A1", "title": "x", "validity_months": 0}, "validity_months"),
    ({"code": "A1", "title": "x", "validity_months": "12"}, "validity_months"),
    ({"code": "A1", "title": "x", "mandatory": "yes"}, "mandatory"),
    ({"code": "A1", "title": "x", "is_onboarding": 1}, "is_onboarding"),
    ({"code": "A1", "title": "x", "self_enroll": "false"}, "self_enroll"),
    ({"code": "A1", "title": "x", "status": "published"}, "status"),
    ({"code": "A1", "title": "x", "status": "bogus"}, "status"),
    ({"code": "A1", "title": "x", "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("body", "field"), BAD_CREATE)
def test_create_422_names_the_bad_field_and_writes_nothing(client, h, body, field):
    before = counts()
    problem = assert_problem(client.post(COURSES, json=body, headers=h), 422)
    assert field in problem["errors"], problem
    assert all(isinstance(m, str) for m in problem["errors"][field])
    assert counts() == before


def test_create_422_reports_every_bad_field_at_once(client, h):
    body = {"code": "", "title": "", "estimated_minutes": "x", "level": "expert"}
    problem = assert_problem(client.post(COURSES, json=body, headers=h), 422)
    assert {"code", "title", "estimated_minutes", "level"} <= set(problem["errors"])


def test_duplicate_code_is_422(client, h):
    CourseFactory(code="DUP-1")
    before = counts()
    problem = assert_problem(
        client.post(COURSES, json={"code": "dup-1", "title": "x"}, headers=h), 422
    )
    assert "code" in problem["errors"]
    assert counts() == before


BAD_UPDATE = [
    ({"title": ""}, "title"),
    ({"title": None}, "title"),
    ({"estimated_minutes": "12"}, "estimated_minutes"),
    ({"passing_score": -1}, "passing_score"),
    ({"mandatory": "no"}, "mandatory"),
    ({"level": 3}, "level"),
    ({"status": "archived"}, "status"),
    ({"status": 1}, "status"),
    ({"title": "Fine", "language": "xx-yy-zz"}, "language"),
]


@pytest.mark.parametrize(("body", "field"), BAD_UPDATE)
def test_update_422_writes_nothing(client, h, body, field):
    course = CourseFactory(title="Original", status="draft")
    before = counts()
    problem = assert_problem(client.put(f"{COURSES}/{course.id}", json=body, headers=h), 422)
    assert field in problem["errors"]
    db.session.expire_all()
    again = db.session.get(Course, course.id)
    assert (again.title, again.status, again.version) == ("Original", "draft", 1)
    assert counts() == before


# --- 400 / 404 / 405 / 409 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "{not json", "content_type": "application/json"},
        {"json": ["a", "list"]},
        {"json": "a string"},
        {"data": {"code": "A1", "title": "form-encoded"}},
        {"data": b"", "content_type": "application/json"},
    ],
)
def test_non_object_json_body_is_400(client, h, kwargs):
    before = counts()
    assert_problem(client.post(COURSES, headers=h, **kwargs), 400)
    course = CourseFactory()
    assert_problem(client.put(f"{COURSES}/{course.id}", headers=h, **kwargs), 400)
    assert counts()[1] == before[1]


@pytest.mark.parametrize(
    "path",
    [
        f"{COURSES}/999999",
        f"{COURSES}/abc",
        f"{COURSES}/-1",
        f"{COURSES}/1.5",
        f"{COURSES}/99999999999999999999999",
        "/api/nothing-here",
        "/api/training/courses/1/extra",
    ],
)
def test_unknown_paths_are_404_problems(client, h, path):
    assert_problem(client.get(path, headers=h), 404)


def test_update_and_delete_unknown_course_are_404(client, h):
    assert_problem(client.put(f"{COURSES}/4242", json={"title": "x"}, headers=h), 404)
    assert_problem(client.delete(f"{COURSES}/4242", headers=h), 404)


def test_405_is_a_problem_with_allow(client, h):
    resp = client.patch(COURSES, json={}, headers=h)
    assert_problem(resp, 405)
    assert {"GET", "POST"} <= {m.strip() for m in resp.headers["Allow"].split(",")}
    resp = client.post(f"{COURSES}/1", json={}, headers=h)
    assert_problem(resp, 405)
    assert "PUT" in resp.headers["Allow"] and "DELETE" in resp.headers["Allow"]


def test_delete_with_enrollment_is_409_and_course_stays(client, h):
    course = CourseFactory()
    EnrollmentFactory(course=course)
    before = counts()
    problem = assert_problem(client.delete(f"{COURSES}/{course.id}", headers=h), 409)
    assert "retire" in problem["detail"]
    assert counts() == before
    assert client.get(f"{COURSES}/{course.id}", headers=h).status_code == 200


def test_delete_without_enrollments_is_204_then_404(client, h):
    course = CourseFactory()
    ModuleFactory(course=course, position=1)
    resp = client.delete(f"{COURSES}/{course.id}", headers=h)
    assert resp.status_code == 204 and resp.data == b""
    assert "html" not in resp.headers.get("Content-Type", "")
    assert_problem(client.get(f"{COURSES}/{course.id}", headers=h), 404)


# --- update semantics ----------------------------------------------------------------------------


def test_partial_update_changes_only_given_fields(client, h):
    course = CourseFactory(title="Old", summary="Keep me", status="draft")
    resp = client.put(f"{COURSES}/{course.id}", json={"title": "New"}, headers=h)
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["title"], body["summary"], body["version"]) == ("New", "Keep me", 1)


def test_get_body_can_be_put_back(client, h):
    course = CourseFactory(status="draft")
    body = client.get(f"{COURSES}/{course.id}", headers=h).get_json()
    body["title"] = "Round trip"
    resp = client.put(f"{COURSES}/{course.id}", json=body, headers=h)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["title"] == "Round trip"


def test_put_status_publishes_and_retires(client, h):
    course = CourseFactory(status="draft")
    ModuleFactory(course=course, position=1)
    url = f"{COURSES}/{course.id}"
    resp = client.put(url, json={"status": "published", "summary": "Ready"}, headers=h)
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "published"
    assert resp.get_json()["version"] == 1  # edited while a draft: no new version
    resp = client.put(url, json={"summary": "Changed after publishing"}, headers=h)
    assert resp.get_json()["version"] == 2
    resp = client.put(url, json={"status": "retired"}, headers=h)
    assert resp.get_json()["status"] == "retired"


def test_publishing_without_modules_is_409_and_changes_nothing(client, h):
    course = CourseFactory(status="draft", title="Empty")
    url = f"{COURSES}/{course.id}"
    resp = client.put(url, json={"status": "published", "title": "Renamed"}, headers=h)
    assert_problem(resp, 409)
    db.session.expire_all()
    again = db.session.get(Course, course.id)
    assert (again.status, again.title) == ("draft", "Empty")


# --- visibility, pagination, filters -------------------------------------------------------------


def test_learners_see_published_only(client, h, learner):
    published = CourseFactory(title="Live", status="published")
    draft = CourseFactory(title="Draft", status="draft")
    CourseFactory(title="Old", status="retired")
    titles = [c["title"] for c in client.get(COURSES, headers=learner).get_json()["items"]]
    assert titles == ["Live"]
    assert client.get(f"{COURSES}?status=draft", headers=learner).get_json()["items"] == []
    assert client.get(f"{COURSES}/{published.id}", headers=learner).status_code == 200
    assert_problem(client.get(f"{COURSES}/{draft.id}", headers=learner), 404)
    all_titles = {c["title"] for c in client.get(COURSES, headers=h).get_json()["items"]}
    assert all_titles == {"Live", "Draft", "Old"}
    drafts = client.get(f"{COURSES}?status=draft", headers=h).get_json()["items"]
    assert [c["title"] for c in drafts] == ["Draft"]
    assert client.get(f"{COURSES}/{draft.id}", headers=h).status_code == 200


def _links(resp) -> dict[str, str]:
    out = {}
    for part in resp.headers["Link"].split(","):
        m = re.fullmatch(r'\s*<([^>]+)>;\s*rel="(\w+)"\s*', part)
        assert m, part
        out[m.group(2)] = m.group(1)
    return out


def test_pagination_and_link_header(client, h):
    for i in range(25):
        CourseFactory(title=f"Course {i:02d}", category="Safety")
    first = client.get(f"{COURSES}?per_page=10&category=Safety", headers=h)
    body = first.get_json()
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (1, 10, 25, 3)
    assert len(body["items"]) == 10
    links = _links(first)
    assert set(links) == {"first", "next", "last"}
    assert "page=3" in links["last"] and "category=Safety" in links["next"]
    seen, url, pages = [], f"{COURSES}?per_page=10&category=Safety", 0
    while url:
        resp = client.get(url, headers=h)
        seen += [c["title"] for c in resp.get_json()["items"]]
        rels = _links(resp)
        if pages == 1:
            assert set(rels) == {"first", "prev", "next", "last"}
            assert "page=1" in rels["prev"]
        url = rels.get("next")
        pages += 1
    assert pages == 3
    assert seen == [f"Course {i:02d}" for i in range(25)]


@pytest.mark.parametrize(
    ("query", "page", "per_page"),
    [("per_page=100000", 1, 100), ("per_page=0", 1, 1), ("per_page=x&page=y", 1, 20),
     ("page=-3", 1, 20), ("page=99", 99, 20)],
)  # fmt: skip
def test_bad_paging_values_are_clamped(client, h, query, page, per_page):
    CourseFactory()
    resp = client.get(f"{COURSES}?{query}", headers=h)
    assert resp.status_code == 200
    body = resp.get_json()
    assert (body["page"], body["per_page"]) == (page, per_page)
    if page == 99:
        assert body["items"] == [] and "prev" in _links(resp)


def test_filters(client, h):
    CourseFactory(
        title="Forklift safety", category="Warehouse", level="beginner", language="en",
        mandatory=True, is_onboarding=True, tags=",forklift,", estimated_minutes=20,
    )  # fmt: skip
    CourseFactory(
        title="Advanced HPLC", category="QC Lab", level="advanced", language="de",
        mandatory=False, is_onboarding=False, estimated_minutes=120,
    )  # fmt: skip
    CourseFactory(title="Draft thing", status="draft", category="Warehouse")

    def titles(query):
        resp = client.get(f"{COURSES}?{query}", headers=h)
        assert resp.status_code == 200
        return [c["title"] for c in resp.get_json()["items"]]

    assert titles("q=forklift") == ["Forklift safety"]
    assert titles("q=hplc advanced") == ["Advanced HPLC"]
    assert titles("category=QC Lab") == ["Advanced HPLC"]
    assert titles("level=advanced") == ["Advanced HPLC"]
    assert titles("language=de") == ["Advanced HPLC"]
    assert titles("mandatory=true&status=published") == ["Forklift safety"]
    assert titles("onboarding=false&status=published") == ["Advanced HPLC"]
    assert titles("status=draft") == ["Draft thing"]
    assert titles("status=published&sort=longest") == ["Advanced HPLC", "Forklift safety"]
    assert titles("status=published&sort=shortest") == ["Forklift safety", "Advanced HPLC"]
    assert titles("q=%25&status=published") == []  # LIKE wildcards are matched literally
    assert titles("sort=nonsense&level=nonsense") == []


def test_responses_are_json(client, h):
    course = CourseFactory()
    for resp in (
        client.get(COURSES, headers=h),
        client.get(f"{COURSES}/{course.id}", headers=h),
        client.get("/api/openapi.json"),
    ):
        assert resp.mimetype == "application/json"
    resp = client.options(COURSES, headers=h)
    assert resp.status_code == 204 and "html" not in resp.headers.get("Content-Type", "")


def test_list_query_count_does_not_grow_with_courses(client, h, count_queries):
    def run():
        with count_queries() as statements:
            assert client.get(f"{COURSES}?per_page=100", headers=h).status_code == 200
        return len(statements)

    for _ in range(3):
        CourseFactory()
    few = run()
    for _ in range(30):
        CourseFactory()
    assert run() == few


def test_a_repeated_list_is_served_from_the_cache_until_a_course_changes(client, h, count_queries):
    course = CourseFactory(title="Before")

    def fetch(query=""):
        with count_queries() as statements:
            resp = client.get(f"{COURSES}?per_page=5{query}", headers=h)
        reads = [s for s in statements if "training_courses.title" in s]  # not the fingerprint
        return resp, reads

    first, reads = fetch()
    assert [c["title"] for c in first.get_json()["items"]] == ["Before"] and reads
    again, reads = fetch("&utm_source=mail")
    assert again.get_json() == first.get_json() and reads == []  # the cached body
    assert "utm_source=mail" in _links(again)["first"]  # this request's own Link header

    resp = client.put(f"{COURSES}/{course.id}", json={"title": "After"}, headers=h)
    assert resp.status_code == 200
    changed, reads = fetch()
    assert [c["title"] for c in changed.get_json()["items"]] == ["After"] and reads
    CourseFactory(title="Added outside the API")  # any committed course write counts
    assert fetch()[0].get_json()["total"] == 2
