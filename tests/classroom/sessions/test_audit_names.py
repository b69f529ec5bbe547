"""The audit trail names sessions and bookings ("Booking Anna Keller · GMP-120 Cleanroom
gowning, ...") instead of "session_registration #3"."""

from __future__ import annotations

from sqlalchemy import select

from app.classroom.booking import register
from app.extensions import db
from app.platform.audit import AuditLog
from tests.classroom.sessions.conftest import schedule
from tests.people.factories import UserFactory


def test_the_trail_names_the_session_and_the_person_booked(client, auth, trainer, course):
    session = schedule(trainer, course)
    anna = UserFactory(name="Anna Keller")
    register(session.id, anna)
    booking_id = db.session.scalar(
        select(AuditLog.entity_id).where(AuditLog.entity == "session_registration")
    )
    auth.login(UserFactory(roles=["qa"]))
    page = client.get("/audit/", query_string={"entity": "session_registration"})
    body = page.get_data(as_text=True)
    when = f"{session.starts_at:%Y-%m-%d %H:%M} UTC"
    assert page.status_code == 200 and booking_id
    assert "<strong>Booking</strong>" in body
    assert f"Anna Keller · GMP-120 Cleanroom gowning, {when}, Basel B2" in body
    assert "session_registration #" not in body.split('<details class="audit-raw">', 1)[0]
    assert "<dt>Session</dt>" in body  # the session id field, labelled and named
