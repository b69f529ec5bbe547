"""Booking yourself is confirmed (in-app and by email, in your zone) and so is cancelling; and
the one time-zone rule: every page shows a session in the viewer's zone with the zone named,
exports and the audit trail in UTC."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from app.classroom.booking import cancel_registration, register
from app.classroom.scheduling import create_sessions
from tests.classroom.sessions.conftest import notifications
from tests.helpers.jobs import run_queued_jobs
from tests.notifications.conftest import smtp  # noqa: F401  (a real SMTP server on loopback)
from tests.people.factories import UserFactory


def _gowning(trainer, course):
    """Mon 14 Dec 2026, 09:00-11:00 in Basel (08:00-10:00 UTC, 08:00 GMT in London)."""
    return create_sessions(
        {
            "course_id": course.id,
            "timezone": "Europe/Zurich",
            "starts_at": "2026-12-14T09:00",
            "ends_at": "2026-12-14T11:00",
            "capacity": 8,
            "location": "Basel B2",
            "title": "Gowning practice",
        },
        trainer,
    ).session


# --- confirmations ---------------------------------------------------------------------------


def test_booking_yourself_is_confirmed_in_app_and_by_email_in_your_zone(
    app,
    smtp,  # noqa: F811  (the fixture imported above)
    trainer,
    course,
):
    s = _gowning(trainer, course)
    learner = UserFactory(name="Ryan Walsh", email="ryan@example.com", timezone="Europe/London")
    register(s.id, learner)
    run_queued_jobs(app)

    [note] = notifications(learner.id, "session_registered")
    assert note.title == "Booking confirmed: Gowning practice"
    assert "You have a seat for “Gowning practice” on Mon 14 Dec 2026 08:00 GMT, Basel B2" in (
        note.body
    )
    assert note.url == f"/sessions/{s.id}"
    [msg] = smtp.messages
    assert msg["To"] == "Ryan Walsh <ryan@example.com>"
    assert "Booking confirmed: Gowning practice" in msg["Subject"]
    assert "Mon 14 Dec 2026 08:00 GMT" in msg.get_body(("plain",)).get_content()

    cancel_registration(s.id, learner.id, learner)
    run_queued_jobs(app)
    [gone] = notifications(learner.id, "session_booking_cancelled")
    assert gone.title == "Booking cancelled: Gowning practice"
    assert "Your seat for “Gowning practice” on Mon 14 Dec 2026 08:00 GMT is cancelled." in (
        gone.body
    )
    assert len(smtp.messages) == 2


def test_a_waitlist_place_is_confirmed_as_such(trainer, course):
    s = _gowning(trainer, course)
    s.capacity = 1
    register(s.id, UserFactory())
    zurich = UserFactory(timezone="Europe/Zurich")
    register(s.id, zurich)
    [note] = notifications(zurich.id, "session_registered")
    assert "You have waitlist place 1 for “Gowning practice” on Mon 14 Dec 2026 09:00 CET" in (
        note.body
    )


# --- one time-zone rule ----------------------------------------------------------------------


def test_london_and_zurich_see_the_same_session_at_their_own_times(client, auth, trainer, course):
    s = _gowning(trainer, course)
    london = UserFactory(timezone="Europe/London")
    zurich = UserFactory(timezone="Europe/Zurich")

    auth.login(london)
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert "Monday 14 December 2026, 08:00–10:00 GMT" in page
    # Where it happens, labelled as such; never unlabelled.
    assert "Mon 14 Dec 2026 09:00–11:00 CET local time where it happens" in page
    assert "Sun 13 Dec 2026 23:59" not in page
    listing = client.get("/sessions").get_data(as_text=True)
    assert "08:00–10:00 GMT" in listing and "CET" not in listing
    cal = client.get("/calendar?view=list&date=2026-12-14").get_data(as_text=True)
    assert "Mon 2026-12-14 08:00–10:00 GMT" in cal and "09:00" not in cal
    auth.logout()

    auth.login(zurich)
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert "Monday 14 December 2026, 09:00–11:00 CET" in page
    assert "local time where it happens" not in page  # the viewer is where it happens
    assert "GMT" not in page and "08:00" not in page
    listing = client.get("/sessions").get_data(as_text=True)
    assert "09:00–11:00 CET" in listing and "GMT" not in listing
    cal = client.get("/calendar?view=list&date=2026-12-14").get_data(as_text=True)
    assert "Mon 2026-12-14 09:00–11:00 CET" in cal


def test_every_time_on_the_page_names_the_viewers_zone(client, auth, trainer, course):
    s = _gowning(trainer, course)
    learner = UserFactory(timezone="Asia/Tokyo")
    register(s.id, learner)
    auth.login(trainer)  # Europe/Zurich; sees the registrant's booking time too
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert "2026-12-07 10:30 CET" in page  # booked at the pinned 09:30 UTC
    assert "Booking closes</dt>\n        <dd>Mon 14 Dec 2026 09:00 CET" in page
    auth.logout()
    auth.login(learner)
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert "Monday 14 December 2026, 17:00–19:00 JST" in page


def test_the_api_and_the_audit_export_are_in_utc(client, auth, trainer, course):
    from tests.helpers.api import bearer, make_token

    s = _gowning(trainer, course)
    body = client.get(f"/api/v1/training/sessions/{s.id}", headers=bearer(make_token(trainer))).json
    assert (body["starts_at"], body["ends_at"]) == ("2026-12-14T08:00:00Z", "2026-12-14T10:00:00Z")

    auth.login(UserFactory(roles=["qa"], timezone="Europe/Zurich"))
    resp = client.get(f"/audit/export.csv?entity=training_session&entity_id={s.id}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert "at_utc" in row  # the header says UTC
    at = datetime.fromisoformat(row["at_utc"].replace("Z", "+00:00"))
    assert at == datetime(2026, 12, 7, 9, 30, tzinfo=UTC) or at.utcoffset().total_seconds() == 0
    assert json.loads(row["after"])["starts_at"] == "2026-12-14T08:00:00Z"
