"""/api/v1/training/reports: compliance summary, overdue and expiring lists."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.helpers.api import bearer, make_token

BASE = "/api/v1/training/reports"


def get(client, user, path, scopes=("read",)):
    return client.get(BASE + path, headers=bearer(make_token(user, scopes)))


def test_summary_by_department_and_job_role(org, client):
    resp = get(client, org.hr, "/compliance")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    body = resp.get_json()
    assert body["by"] == "department" and body["on"] == org.today.isoformat()
    assert [(i["name"], i["applicable"], i["compliant"], i["percent"]) for i in body["items"]] == [
        ("Production", 4, 3, 75),
        ("Quality", 7, 2, 28),
    ]
    assert body["items"][1]["by_status"]["waived"] == 1
    assert body["items"][0]["id"] == org.production.id
    assert (body["total"]["applicable"], body["total"]["compliant"]) == (11, 5)

    roles = get(client, org.qa, "/compliance?by=job_role").get_json()
    assert [(i["name"], i["percent"]) for i in roles["items"]] == [
        ("Analyst", 50),
        ("Operator", 42),
    ]


def test_summary_rejects_unknown_grouping_and_bad_filters(org, client):
    resp = get(client, org.hr, "/compliance?by=site")
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert "by" in resp.get_json()["errors"]
    bad = get(client, org.hr, "/compliance?department_id=x")
    assert bad.status_code == 422 and "department_id" in bad.get_json()["errors"]


def test_overdue_is_paginated_with_a_link_header(org, client):
    resp = get(client, org.hr, "/overdue?per_page=2")
    body = resp.get_json()
    assert (body["total"], body["pages"], body["page"]) == (3, 2, 1)
    assert [(i["user_name"], i["status"], i["days_late"]) for i in body["items"]] == [
        ("Carol Clark", "overdue", 30),
        ("Dave Dunn", "expired", 30),
    ]
    assert body["items"][1]["valid_until"] == org.dave_valid_until.isoformat()
    link = resp.headers["Link"]
    assert 'rel="next"' in link and "page=2" in link and "per_page=2" in link
    page2 = get(client, org.hr, "/overdue?per_page=2&page=2").get_json()
    assert [i["user_name"] for i in page2["items"]] == ["Alice Adams"]


def test_overdue_filters_by_department(org, client):
    body = get(client, org.hr, f"/overdue?department_id={org.production.id}").get_json()
    assert [i["user_name"] for i in body["items"]] == ["Alice Adams"]


def test_expiring_within_days(org, client):
    body = get(client, org.hr, "/expiring?days=30").get_json()
    assert body["days"] == 30
    [item] = body["items"]
    assert (item["user_name"], item["target_code"], item["valid_until"]) == (
        "Bob Brown",
        "GMP-1",
        org.bob_valid_until.isoformat(),
    )
    assert item["days_left"] == (org.bob_valid_until - org.today).days
    assert get(client, org.hr, "/expiring").get_json()["days"] == 30
    year = get(client, org.hr, "/expiring?days=365").get_json()
    assert [i["user_name"] for i in year["items"]] == ["Bob Brown", "Alice Adams"]
    assert year["items"][1]["valid_until"] > (org.today + timedelta(days=300)).isoformat()


@pytest.mark.parametrize("days", ["0", "366", "soon"])
def test_expiring_days_outside_1_to_365_is_422(org, client, days):
    resp = get(client, org.hr, f"/expiring?days={days}")
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    assert "days" in resp.get_json()["errors"]


def test_manager_sees_only_direct_reports(org, client):
    summary = get(client, org.mia, "/compliance").get_json()
    assert [(i["name"], i["applicable"]) for i in summary["items"]] == [("Production", 4)]
    overdue = get(client, org.mia, "/overdue").get_json()
    assert [i["user_name"] for i in overdue["items"]] == ["Alice Adams"]
    other = get(client, org.mia, f"/overdue?department_id={org.quality.id}").get_json()
    assert other["items"] == [] and other["total"] == 0


@pytest.mark.parametrize("path", ["/compliance", "/overdue", "/expiring?days=30"])
def test_employees_get_403_and_anonymous_401(org, client, path):
    resp = get(client, org.employee, path)
    assert resp.status_code == 403 and resp.mimetype == "application/problem+json"
    assert client.get(BASE + path).status_code == 401


def test_session_users_may_read_too(org, client, auth):
    auth.login(org.qa)
    assert client.get(BASE + "/overdue").get_json()["total"] == 3


def test_documented_in_openapi(client):
    doc = client.get("/api/openapi.json").get_json()
    for path in ("compliance", "overdue", "expiring"):
        assert f"/api/v1/training/reports/{path}" in doc["paths"]
    expiring = doc["paths"]["/api/v1/training/reports/expiring"]["get"]
    days = next(p for p in expiring["parameters"] if p["name"] == "days")
    assert (days["schema"]["minimum"], days["schema"]["maximum"]) == (1, 365)
    assert "ExpiringItem" in doc["components"]["schemas"]
