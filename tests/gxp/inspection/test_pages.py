"""The inspection-export page: who may use it, requesting, polling, and the audited download."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.gxp.models import InspectionExport
from tests.conftest import Auth, csrf, fetch_download
from tests.gxp.inspection.conftest import built
from tests.helpers.jobs import run_queued_jobs
from tests.helpers.records import audit_rows
from tests.people.factories import DepartmentFactory, UserFactory

ROLES = ("admin", "hr", "qa", "trainer", "manager", "employee", "seller")
ALLOWED = {"admin", "qa"}
PAGE = "/inspection-exports"


def _exports() -> int:
    return db.session.scalar(select(func.count()).select_from(InspectionExport))


def test_role_matrix_for_the_page_and_the_download(app, history):
    export = built(app, {"person": history.person.email}, history.qa)
    for role in ROLES:
        client = app.test_client()
        Auth(client).login(UserFactory(roles=[role]))
        token = csrf(client, "/home")
        expected = 200 if role in ALLOWED else 403
        assert client.get(PAGE).status_code == expected, role
        resp = client.post(f"{PAGE}/{export.id}/download", data={"csrf_token": token})
        assert resp.status_code == (302 if role in ALLOWED else 403), role
    # Only the two allowed downloads are in the audit trail.
    assert len(audit_rows("inspection_export", export.id, "download")) == 2


def test_signed_out_visitors_are_sent_to_login(client):
    resp = client.get(PAGE)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_qa_requests_an_export_and_downloads_the_zip(app, client, auth, history):
    auth.login(history.qa)
    token = csrf(client, PAGE)
    resp = client.post(
        PAGE,
        data={"csrf_token": token, "person": history.person.email, "department_id": ""},
    )
    assert resp.status_code == 302
    run_queued_jobs(app)  # with Redis the export is built by a worker
    [export] = db.session.scalars(select(InspectionExport)).all()
    body = client.get(PAGE).get_data(as_text=True)
    assert f"Inspection export #{export.id}" in body  # the flash
    assert f'id="export-{export.id}"' in body and "Ada Lovelace" in body
    assert f'action="{PAGE}/{export.id}/download"' in body
    assert 'hx-trigger="every 2s"' not in body  # nothing left to wait for

    resp = client.post(f"{PAGE}/{export.id}/download", data={"csrf_token": token})
    assert resp.status_code == 302
    assert fetch_download(client, resp.headers["Location"])[:2] == b"PK"
    [row] = audit_rows("inspection_export", export.id, "download")
    assert row.actor_id == history.qa.id


def test_form_errors_rerender_with_422_and_write_nothing(client, auth):
    auth.login(UserFactory(roles=["admin"]))
    token = csrf(client, PAGE)
    resp = client.post(PAGE, data={"csrf_token": token})
    assert resp.status_code == 422
    assert "Choose a person, a department or a date range" in resp.get_data(as_text=True)
    resp = client.post(PAGE, data={"csrf_token": token, "person": "ghost@example.com"})
    assert resp.status_code == 422 and "Nobody has this email" in resp.get_data(as_text=True)
    assert _exports() == 0


def test_list_polls_with_htmx_while_an_export_is_pending(client, auth):
    qa = UserFactory(roles=["qa"])
    pending = InspectionExport(
        requested_by_id=qa.id, department_id=DepartmentFactory().id, status="running", total=4
    )
    pending.progress = 1
    db.session.add(pending)
    db.session.commit()
    auth.login(qa)

    full = client.get(PAGE).get_data(as_text=True)
    assert "<html" in full and 'hx-trigger="every 2s"' in full and ">Refresh</a>" in full
    assert 'max="4" value="1"' in full and "1 of 4 people" in full

    fragment = client.get(PAGE, headers={"HX-Request": "true"})
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and 'class="export-list"' in text
    assert 'hx-trigger="every 2s" hx-target="#export-rows"' in text
    assert "HX-Request" in fragment.headers.get("Vary", "")
    # Nothing to download until it is done.
    assert f"{PAGE}/{pending.id}/download" not in text
    resp = client.post(f"{PAGE}/{pending.id}/download", data={"csrf_token": csrf(client, PAGE)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(PAGE)
    assert audit_rows("inspection_export", pending.id, "download") == []

    pending.status, pending.progress = "done", 4
    db.session.commit()
    text = client.get(PAGE, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'hx-trigger="every 2s"' not in text  # the fragment stops polling itself


def test_list_queries_do_not_grow_with_the_exports(client, auth, count_queries):
    qa = UserFactory(roles=["qa"])
    dept = DepartmentFactory()

    def add(n):
        for _ in range(n):
            db.session.add(
                InspectionExport(
                    requested_by_id=qa.id, user_id=qa.id, department_id=dept.id, status="done"
                )
            )
        db.session.commit()

    auth.login(qa)
    add(2)
    with count_queries() as few:
        assert client.get(PAGE).status_code == 200
    add(10)
    with count_queries() as many:
        assert client.get(PAGE).status_code == 200
    assert len(many) == len(few)
