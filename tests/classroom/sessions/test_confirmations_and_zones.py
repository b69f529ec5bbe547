"""Booking yourself is confirmed (in-app and by email, in your zone) and so is cancelling; and
the one time-zone rule: every page shows a session in the viewer's zone with the zone named,
exports and the audit trail in UTC."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.classroom.booking import cancel_registration, register
from app.classroom.scheduling import create_sessions
from app.platform import clock
from tests.classroom.sessions.conftest import notifications
from tests.helpers.jobs import run_queued_jobs
from tests.notifications.conftest import smtp  # noqa: F401  (a real SMTP server on loopback)
from tests.people.factories import UserFactory


def _day() -> date:
    """The next 14 December after the pinned day: winter in London, Basel and Tokyo alike."""
    today = clock.today()
    day = date(today.year, 12, 14)
    return day if day > today else date(today.year + 1, 12, 14)


def _short(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"  # "Mon 14 Dec 2026"


def _long(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"  # "Monday 14 December 2026"


def _gowning(trainer, course):
    """14 December, 09:00-11:00 in Basel (08:00-10:00 UTC, 08:00 GMT in London)."""
    day = _day()
    return create_sessions(
        {
            "course_id": course.id,
            "timezone": "Europe/Zurich",
            "starts_at": f"{day.isoformat()}T09:00",
            "ends_at": f"{day.isoformat()}T11:00",
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
    assert f"You have a seat for “Gowning practice” on {_short(_day())} 08:00 GMT, Basel B2" in (
        note.body
    )
    assert note.url == f"/sessions/{s.id}"
    [msg] = smtp.messages
    assert msg["To"] == "Ryan Walsh <ryan@example.com>"
    assert "Booking confirmed: Gowning practice" in msg["Subject"]
    assert f"{_short(_day())} 08:00 GMT" in msg.get_body(("plain",)).get_content()

    cancel_registration(s.id, learner.id, learner)
    run_queued_jobs(app)
    [gone] = notifications(learner.id, "session_booking_cancelled")
    assert gone.title == "Booking cancelled: Gowning practice"
    assert f"Your seat for “Gowning practice” on {_short(_day())} 08:00 GMT is cancelled." in (
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
    assert f"You have waitlist place 1 for “Gowning practice” on {_short(_day())} 09:00 CET" in (
        note.body
    )


# --- one time-zone rule ----------------------------------------------------------------------


def test_london_and_zurich_see_the_same_session_at_their_own_times(client, auth, trainer, course):
    s = _gowning(trainer, course)
    london = UserFactory(timezone="Europe/London")
    zurich = UserFactory(timezone="Europe/Zurich")

    auth.login(london)
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert f"{_long(_day())}, 08:00–10:00 GMT" in page
    # Where it happens, labelled as such; never unlabelled.
    assert f"{_short(_day())} 09:00–11:00 CET local time where it happens" in page
    assert f"{_short(_day() - timedelta(days=1))} 23:59" not in page
    listing = client.get("/sessions").get_data(as_text=True)
    assert "08:00–10:00 GMT" in listing and "CET" not in listing
    cal = client.get(f"/calendar?view=list&date={_day().isoformat()}").get_data(as_text=True)
    assert f"{_day():%a %Y-%m-%d} 08:00–10:00 GMT" in cal and "09:00" not in cal
    auth.logout()

    auth.login(zurich)
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert f"{_long(_day())}, 09:00–11:00 CET" in page
    assert "local time where it happens" not in page  # the viewer is where it happens
    assert "GMT" not in page and "08:00" not in page
    listing = client.get("/sessions").get_data(as_text=True)
    assert "09:00–11:00 CET" in listing and "GMT" not in listing
    cal = client.get(f"/calendar?view=list&date={_day().isoformat()}").get_data(as_text=True)
    assert f"{_day():%a %Y-%m-%d} 09:00–11:00 CET" in cal


def test_every_time_on_the_page_names_the_viewers_zone(client, auth, trainer, course):
    s = _gowning(trainer, course)
    learner = UserFactory(timezone="Asia/Tokyo")
    register(s.id, learner)
    auth.login(trainer)  # Europe/Zurich; sees the registrant's booking time too
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    booked = clock.now().astimezone(ZoneInfo("Europe/Zurich"))  # the pinned moment, in Basel
    assert f"{booked:%Y-%m-%d %H:%M %Z}" in page
    assert f"Booking closes</dt>\n        <dd>{_short(_day())} 09:00 CET" in page
    auth.logout()
    auth.login(learner)
    page = client.get(f"/sessions/{s.id}").get_data(as_text=True)
    assert f"{_long(_day())}, 17:00–19:00 JST" in page


def test_the_api_and_the_audit_export_are_in_utc(client, auth, trainer, course):
    from tests.helpers.api import bearer, make_token

    s = _gowning(trainer, course)
    body = client.get(f"/api/v1/training/sessions/{s.id}", headers=bearer(make_token(trainer))).json
    assert (body["starts_at"], body["ends_at"]) == (
        f"{_day().isoformat()}T08:00:00Z",
        f"{_day().isoformat()}T10:00:00Z",
    )

    auth.login(UserFactory(roles=["qa"], timezone="Europe/Zurich"))
    resp = client.get(f"/audit/export.csv?entity=training_session&entity_id={s.id}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert "at_utc" in row  # the header says UTC
    at = datetime.fromisoformat(row["at_utc"].replace("Z", "+00:00"))
    assert at.utcoffset().total_seconds() == 0
    assert abs(at - clock.now().astimezone(UTC)) < timedelta(seconds=1)
    assert json.loads(row["after"])["starts_at"] == f"{_day().isoformat()}T08:00:00Z"
