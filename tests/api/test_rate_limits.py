"""Rate limits per credential on the JSON API: 429 problem+json with Retry-After.

A window starts at a credential's first counted request, so per-hour budgets make the counts
below exact however slowly the test runs; Retry-After is what is left of that hour.
"""

from __future__ import annotations

import pytest

from app.api.limits import EXTENSION
from tests.helpers.api import bearer, make_token
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory


@pytest.fixture
def course_url(app):
    return f"/api/training/courses/{CourseFactory().id}"


def _assert_limited(resp) -> None:
    assert resp.status_code == 429, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["status"] == 429
    assert 3000 < int(resp.headers["Retry-After"]) <= 3600


def test_a_token_over_its_limit_gets_429_and_another_token_does_not(app, client, course_url):
    app.config["API_RATE_LIMIT"] = "3/hour"
    busy = bearer(make_token(UserFactory(roles=["employee"])))
    calm = bearer(make_token(UserFactory(roles=["employee"])))

    assert [client.get(course_url, headers=busy).status_code for _ in range(3)] == [200] * 3
    _assert_limited(client.get(course_url, headers=busy))
    assert client.get(course_url, headers=calm).status_code == 200
    _assert_limited(client.get("/api/training/courses", headers=busy))  # one budget per token


def test_writes_have_their_own_stricter_budget(app, client, course_url):
    app.config["API_WRITE_RATE_LIMIT"] = "2/hour"
    learner = UserFactory(roles=["employee"])
    token = bearer(make_token(learner, ("read", "write")))
    url = f"/api/training/users/{learner.id}/enroll"
    body = {"course_id": CourseFactory().id}

    assert [client.post(url, json=body, headers=token).status_code for _ in range(2)] == [201, 200]
    _assert_limited(client.post(url, json=body, headers=token))
    assert client.get(course_url, headers=token).status_code == 200  # reads go on


def test_a_browser_session_counts_against_its_person(app, client, auth, course_url):
    app.config["API_RATE_LIMIT"] = "2/hour"
    person = UserFactory(roles=["employee"])
    auth.login(person)

    assert [client.get(course_url).status_code for _ in range(2)] == [200, 200]
    _assert_limited(client.get(course_url))
    # The person's token is another credential with its own budget.
    assert client.get(course_url, headers=bearer(make_token(person))).status_code == 200


def test_requests_without_a_valid_credential_count_against_the_address(app, client, course_url):
    app.config["API_RATE_LIMIT"] = "2/hour"
    bad = {"Authorization": "Bearer cadre_not-a-token"}

    assert client.get(course_url).status_code == 401
    assert client.get(course_url, headers=bad).status_code == 401
    _assert_limited(client.get(course_url, headers=bad))
    other_address = client.get(course_url, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other_address.status_code == 401


def test_pages_and_the_api_reference_are_not_limited_here(app, client):
    app.config["API_RATE_LIMIT"] = "1/hour"
    for _ in range(3):
        assert client.get("/login").status_code == 200
        assert client.get("/api/openapi.json").status_code == 200
        assert client.get("/api/docs").status_code == 200


def test_an_empty_limit_turns_it_off(app, client, course_url):
    app.config["API_RATE_LIMIT"] = ""
    token = bearer(make_token(UserFactory(roles=["employee"])))
    assert {client.get(course_url, headers=token).status_code for _ in range(5)} == {200}


def test_counters_live_in_redis_under_the_runs_prefix(app, client, course_url):
    if not app.config.get("REDIS_URL"):
        pytest.skip("the memory storage is this process's own")
    from redis import Redis

    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    client.get(course_url, headers=bearer(make_token(UserFactory(roles=["employee"]))))

    keys = Redis.from_url(app.config["REDIS_URL"]).keys(f"*{prefix}*")
    assert keys and all(b"token:" in k or b"address:" in k for k in keys)
    assert app.extensions[EXTENSION].storage.check()


def test_a_malformed_limit_stops_the_app_from_starting(app):
    from app import create_app
    from tests.conftest import _overrides

    with pytest.raises(ValueError):
        create_app({**_overrides(), "API_WRITE_RATE_LIMIT": "lots per minute"})
