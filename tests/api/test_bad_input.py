"""Each input that once answered 500 (issue 16) now gets a clear 400/404/422: problem+json under
/api, an error page elsewhere. On PostgreSQL most of these failed in the database (NUL bytes,
lone surrogates, integers past its range); on SQLite some overflowed in the driver."""

from __future__ import annotations

import pytest

from tests.conftest import csrf
from tests.helpers.api import bearer, make_token
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory

BIG = ("1812315875040609280", "99999999999999999999", str(2**63), str(2**31))


@pytest.fixture
def admin_token(app):
    return make_token(UserFactory(roles=["admin"]), ("read", "write", "admin"))


def assert_problem(resp, status: int, detail: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/problem+json"
    body = resp.get_json()
    assert body["type"] == "about:blank" and body["status"] == status and body["title"]
    if detail is not None:
        assert detail in body["detail"], body
    return body


def assert_page(resp, status: int, text: str) -> None:
    assert resp.status_code == status
    assert resp.mimetype == "text/html"
    assert text in resp.get_data(as_text=True)


# --- NUL bytes and lone surrogates --------------------------------------------------------


def test_nul_in_the_login_form_is_a_400_page(client):
    user = UserFactory()
    resp = client.post(
        "/login",
        data={"email": user.email + "\x00", "password": "password", "csrf_token": csrf(client)},
    )
    assert_page(resp, 400, "contains a NUL byte")


@pytest.mark.parametrize(
    "path", ["/verify/AB%00CD", "/notifications/unsubscribe/tok%00en", "/login%00"]
)
def test_nul_in_a_public_path_is_a_400_page(client, path):
    assert_page(client.get(path), 400, "The URL path contains a NUL byte.")


def test_nul_in_a_one_click_unsubscribe_post_is_a_400_page(client):
    assert_page(client.post("/notifications/unsubscribe/tok%00en"), 400, "NUL byte")


def test_nul_in_an_api_json_body_is_a_400_problem(client, admin_token):
    resp = client.post(
        "/api/training/courses",
        json={"code": "C-1\x00", "title": "Safety"},
        headers=bearer(admin_token),
    )
    assert_problem(resp, 400, "A JSON string contains a NUL byte.")


def test_nul_in_a_json_key_is_a_400_problem(client, admin_token):
    resp = client.post(
        "/api/training/courses",
        json={"code": "C-1", "title": "Safety", "x\x00": 1},
        headers=bearer(admin_token),
    )
    assert_problem(resp, 400, "NUL byte")


def test_nul_in_a_query_string_is_a_400_problem(client, admin_token):
    resp = client.get("/api/training/courses?q=fork%00lift", headers=bearer(admin_token))
    assert_problem(resp, 400, "The query parameter 'q' contains a NUL byte.")


def test_nul_in_a_page_query_string_is_a_400_page(client, auth):
    auth.login(UserFactory(roles=["admin"]))
    assert_page(client.get("/courses?q=fork%00lift"), 400, "NUL byte")


def test_lone_surrogate_in_a_json_string_is_a_400_problem(client, admin_token):
    resp = client.post(
        "/api/training/courses",
        data='{"code": "C-1", "title": "Safety \\ud800"}',
        content_type="application/json",
        headers=bearer(admin_token),
    )
    assert_problem(resp, 400, "lone surrogate")


def test_encoded_surrogate_bytes_in_a_json_body_are_a_400_problem(client, admin_token):
    # UTF-8 forbids encoded surrogates; Python's JSON decoder lets them through as text.
    resp = client.post(
        "/api/training/courses",
        data=b'{"code": "C-1", "title": "Safety \xed\xa0\x80"}',
        content_type="application/json",
        headers=bearer(admin_token),
    )
    assert_problem(resp, 400, "lone surrogate")


def test_invalid_utf8_in_a_json_body_is_a_400_problem(client, admin_token):
    resp = client.post(
        "/api/training/courses",
        data=b'{"code": "\xff\xfe"}',
        content_type="application/json",
        headers=bearer(admin_token),
    )
    assert_problem(resp, 400)


def test_nothing_was_written_by_refused_bodies(client, admin_token):
    for title in ("A\x00", "B\ud800"):
        client.post(
            "/api/training/courses",
            json={"code": "C-9", "title": title},
            headers=bearer(admin_token),
        )
    listed = client.get("/api/training/courses", headers=bearer(admin_token)).get_json()
    assert listed["total"] == 0


# --- JSON nested thousands of levels deep -------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "[" * 5000 + "]" * 5000,
        '{"a":' * 5000 + "1" + "}" * 5000,
        '{"code": ' + "[" * 40 + "]" * 40 + "}",
    ],
    ids=["arrays-5000", "objects-5000", "arrays-40"],
)
def test_deeply_nested_json_is_a_400_problem(client, admin_token, body):
    resp = client.post(
        "/api/training/courses",
        data=body,
        content_type="application/json",
        headers=bearer(admin_token),
    )
    assert_problem(resp, 400, "JSON nested deeper than 32 levels.")


def test_json_nested_a_few_levels_still_reaches_the_endpoint(client, admin_token):
    resp = client.post(
        "/api/training/courses",
        json={"code": "C-1", "title": "Safety", "tags": [[["x"]]]},
        headers=bearer(admin_token),
    )
    assert resp.status_code in (201, 422)


# --- integers past the database's range ---------------------------------------------------


def test_a_page_past_the_integer_range_is_a_422_problem(client, admin_token):
    resp = client.get("/api/training/courses?page=1812315875040609280", headers=bearer(admin_token))
    body = assert_problem(resp, 422)
    assert body["errors"] == {"page": ["Must be between 1 and 2147483647."]}


def test_a_page_past_the_integer_range_on_a_page_is_a_422_page(client, auth):
    auth.login(UserFactory(roles=["admin"]))
    assert_page(client.get("/compliance/overdue?page=1812315875040609280"), 422, "No such page.")


def test_the_last_allowed_page_is_just_empty(client, admin_token):
    resp = client.get("/api/training/courses?page=2147483647", headers=bearer(admin_token))
    assert resp.status_code == 200 and resp.get_json()["items"] == []


def test_a_team_id_past_the_integer_range_is_a_422_problem(client, admin_token):
    resp = client.get(
        "/api/v1/training/reports/compliance?team_id=99999999999999999999",
        headers=bearer(admin_token),
    )
    body = assert_problem(resp, 422)
    assert list(body["errors"]) == ["team_id"]


@pytest.mark.parametrize("big", [2**31, 2**63])
def test_an_id_past_the_integer_range_in_a_json_body_is_a_422_problem(client, admin_token, big):
    person = UserFactory()
    resp = client.post(
        f"/api/training/users/{person.id}/enroll",
        json={"course_id": big},
        headers=bearer(admin_token),
    )
    body = assert_problem(resp, 422)
    assert list(body["errors"]) == ["course_id"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("big", [2**31, 2**63])
def test_a_path_id_past_the_integer_range_is_a_404_problem(client, admin_token, method, big):
    # Before: GET 404 but PUT/DELETE 405, as werkzeug's refusal fell back to the GET rule.
    resp = client.open(
        f"/api/training/courses/{big}", method=method, json={}, headers=bearer(admin_token)
    )
    assert_problem(resp, 404)


def test_the_largest_id_is_an_ordinary_not_found(client, admin_token):
    resp = client.get(f"/api/training/courses/{2**31 - 1}", headers=bearer(admin_token))
    assert_problem(resp, 404)
    CourseFactory()


@pytest.mark.parametrize(
    "path",
    [f"/sessions/{2**63}", f"/people/{2**31}/record", f"/calendar/sessions/{2**63}.ics"],
)
def test_a_page_id_past_the_integer_range_is_a_404_page(client, auth, path):
    auth.login(UserFactory(roles=["admin"]))
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("entity_id", BIG + ("²", "١٢"))
def test_audit_history_of_an_impossible_id_is_not_an_error(client, auth, entity_id):
    auth.login(UserFactory(roles=["admin"]))
    for entity in ("waiver", "certification", "training_session", "result", "enrollment"):
        resp = client.get(f"/audit/history/{entity}/{entity_id}")
        assert resp.status_code in (200, 404), (entity, resp.status_code)
