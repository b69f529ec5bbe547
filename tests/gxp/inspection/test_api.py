"""The inspection-export API: request, follow, download (audited); roles, scopes and errors."""

from __future__ import annotations

from app.extensions import db
from app.gxp.models import InspectionExport
from tests.conftest import fetch_download
from tests.helpers.api import bearer, make_token
from tests.helpers.jobs import run_queued_jobs
from tests.helpers.records import audit_rows
from tests.people.factories import UserFactory

URL = "/api/v1/training/records/exports"


def test_request_follow_and_download(app, client, history):
    headers = bearer(make_token(history.qa, ("read", "write")))
    resp = client.post(URL, json={"person": history.person.email}, headers=headers)
    assert resp.status_code == 202, resp.get_json()
    body = resp.get_json()
    assert body["scope"]["user"]["email"] == history.person.email
    assert resp.headers["Location"].endswith(f"{URL}/{body['id']}")
    run_queued_jobs(app)

    item = client.get(f"{URL}/{body['id']}", headers=headers).get_json()
    assert (item["status"], item["progress"], item["total"]) == ("done", 1, 1)
    assert len(item["file"]["sha256"]) == 64
    assert item["download"]["method"] == "POST"
    resp = client.post(item["download"]["href"], headers=headers)
    assert resp.status_code == 200 and resp.get_json()["expires_in"] == 300
    assert fetch_download(client, resp.get_json()["url"])[:2] == b"PK"
    [row] = audit_rows("inspection_export", body["id"], "download")
    assert row.actor_id == history.qa.id


def test_roles_scopes_and_errors(app, client):
    admin = UserFactory(roles=["admin"])
    writer = bearer(make_token(admin, ("read", "write")))
    reader = bearer(make_token(admin, ("read",)))
    hr = bearer(make_token(UserFactory(roles=["hr"]), ("read", "write")))

    assert client.post(URL, json={"date_from": "2025-01-01"}).status_code == 401
    assert client.post(URL, json={"date_from": "2025-01-01"}, headers=reader).status_code == 403
    assert client.post(URL, json={"date_from": "2025-01-01"}, headers=hr).status_code == 403
    resp = client.post(URL, json={}, headers=writer)
    assert resp.status_code == 422 and "scope" in resp.get_json()["errors"]
    assert resp.mimetype == "application/problem+json"
    assert client.post(URL, data="nope", headers=writer).status_code == 400
    assert client.get(f"{URL}/999", headers=writer).status_code == 404

    queued = InspectionExport(requested_by_id=admin.id, user_id=admin.id, status="queued")
    db.session.add(queued)
    db.session.commit()
    assert client.get(f"{URL}/{queued.id}", headers=writer).get_json()["download"] is None
    assert client.post(f"{URL}/{queued.id}/download", headers=writer).status_code == 409
    assert client.get(f"{URL}/{queued.id}", headers=hr).status_code == 403
