"""Correcting a person's record: the edit form asks why, and the audit row keeps it."""

from sqlalchemy import select

from app.extensions import db
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.people.factories import UserFactory


def test_an_edit_keeps_its_reason_beside_before_and_after(client, auth, admin):
    person = UserFactory(name="Pat Persson", email="pat@example.com")
    auth.login(admin)
    path = f"/admin/users/{person.id}/edit"
    assert "Reason for the change" in client.get(path).get_data(as_text=True)
    resp = client.post(
        path,
        data={
            "csrf_token": csrf(client, path),
            "name": "Pat Persson-Lee",
            "email": "pat@example.com",
            "locale": "en",
            "timezone": "UTC",
            "seller_tier": "",
            "change_reason": "Name changed after marriage (HR ticket 4411)",
        },
    )
    assert resp.status_code == 302
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.entity == "user", AuditLog.action == "update")
    )
    assert row.reason == "Name changed after marriage (HR ticket 4411)"
    assert (row.before["name"], row.after["name"]) == ("Pat Persson", "Pat Persson-Lee")
