"""The training calendar (month, week, list), .ics downloads and the private feed."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

import icalendar
import pytest

from app.classroom.models import SessionInstructor, SessionRegistration, TrainingSession
from app.extensions import db
from app.platform import clock
from tests.conftest import csrf
from tests.helpers.dates import local, next_month, utc, weekday_after
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory

# Every session lies in next month (wholly in the future, so none is "held"), whatever the day.
MONTH = next_month()
MONTH_URL = f"/calendar?date={MONTH.isoformat()}"


def _day(n: int):
    """Day n of next month."""
    return MONTH + timedelta(days=n - 1)


def _session(course, starts, hours=2, capacity=10, **kw):
    s = TrainingSession(
        uid=secrets.token_hex(8),
        course_id=course.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=hours),
        timezone=kw.pop("timezone", "Europe/Zurich"),
        capacity=capacity,
        **kw,
    )
    db.session.add(s)
    db.session.commit()
    return s


def _book(session, user, status="registered"):
    db.session.add(SessionRegistration(session_id=session.id, user_id=user.id, status=status))
    db.session.commit()


@pytest.fixture
def viewer(auth):
    user = UserFactory(timezone="Europe/Zurich", name="Vera Viewer")
    auth.login(user)
    return user


def test_month_view_places_sessions_on_the_viewers_local_day(client, viewer):
    course = CourseFactory(title="GMP refresher")
    # 23:30 UTC on the 14th is past midnight on the 15th in Zurich (00:30 or 01:30).
    starts = utc(_day(14), 23, 30)
    s = _session(course, starts, location="Room A")
    page = client.get(f"{MONTH_URL}&view=month").get_data(as_text=True)
    assert f"{MONTH:%B %Y}" in page
    day15 = f'<span class="cal-dow">{_day(15):%a} </span>15<span class="cal-mon">'
    cell = page.split(day15)[1].split('class="cal-date"')[0]
    assert f"{local(starts):%H:%M}" in cell and "GMP refresher" in cell and "10 left" in cell
    assert f'href="/sessions/{s.id}"' in cell and "Room A" in cell


def test_full_cancelled_and_booked_sessions_look_different(client, viewer):
    course = CourseFactory(title="Forklift")
    start = utc(_day(2), 8)
    full = _session(course, start, capacity=1)
    _book(full, UserFactory())
    _book(full, UserFactory(), "waitlisted")
    _session(course, start + timedelta(days=1), status="cancelled")
    mine = _session(course, start + timedelta(days=2))
    _book(mine, viewer)
    page = client.get(MONTH_URL).get_data(as_text=True)
    assert "cal-chip cal-full" in page and "full · 1 waiting" in page
    assert "cal-chip cal-cancelled" in page and "cal-mine" in page
    only_mine = client.get(f"{MONTH_URL}&mine=1").get_data(as_text=True)
    assert only_mine.count('class="cal-chip') == 1


def test_week_and_list_views_and_period_navigation(client, viewer):
    course = CourseFactory(title="Cold chain")
    wednesday = weekday_after(MONTH, 2, weeks=1)
    monday = wednesday - timedelta(days=2)
    starts = utc(wednesday, 9)
    _session(course, starts)
    week = client.get(f"/calendar?view=week&date={wednesday + timedelta(days=1)}")
    week = week.get_data(as_text=True)
    assert f"Week of {monday} – {monday + timedelta(days=6)}" in week and "Cold chain" in week
    previous, following = monday - timedelta(days=7), monday + timedelta(days=7)
    assert f"date={previous}" in week and f"date={following}" in week
    listing = client.get(f"{MONTH_URL}&view=list").get_data(as_text=True)
    hours = f"{local(starts):%H:%M}–{local(starts + timedelta(hours=2)):%H:%M}"
    assert f"Wed {wednesday} {hours}" in listing and "10 of 10 left" in listing


def test_filters_by_course_instructor_and_location(client, viewer):
    a, b = CourseFactory(title="Alpha course"), CourseFactory(title="Beta course")
    trainer = UserFactory(roles=["trainer"], name="Tina Trainer")
    start = utc(_day(3), 9)
    s1 = _session(a, start, location="Lab 2")
    _session(b, start, location="Hall")
    db.session.add(SessionInstructor(session_id=s1.id, user_id=trainer.id))
    db.session.commit()
    for query in (f"course_id={a.id}", f"instructor_id={trainer.id}", "location=lab"):
        page = client.get(f"{MONTH_URL}&{query}").get_data(as_text=True)
        shown = page.split('id="calendar"')[1]
        assert "Alpha course" in shown and "Beta course" not in shown


def test_htmx_gets_only_the_calendar_and_bad_input_is_ignored(client, viewer):
    resp = client.get("/calendar?view=week", headers={"HX-Request": "true"})
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)
    assert client.get("/calendar?view=nope&date=notadate&course_id=x").status_code == 200


def test_filtering_after_paging_keeps_the_period(client, viewer):
    """The filter form sits outside the swapped calendar; the period it submits comes with
    each swap (hidden inputs tied to the form by its id), so picking a course on a later
    month stays on that month."""
    page = client.get(f"/calendar?view=week&date={_day(10)}").get_data(as_text=True)
    assert '<form id="cal-filters"' in page
    swapped = client.get(
        f"/calendar?view=week&date={_day(17)}", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert '<input type="hidden" form="cal-filters" name="view" value="week">' in swapped
    assert f'<input type="hidden" form="cal-filters" name="date" value="{_day(17)}">' in swapped


def test_calendar_query_count_does_not_grow_with_sessions(client, viewer, count_queries):
    course = CourseFactory()
    start = utc(_day(1), 9)
    first = _session(course, start)
    teacher = UserFactory(name="Tamsin Teacher")
    db.session.add(SessionInstructor(session_id=first.id, user_id=teacher.id))
    db.session.commit()
    with count_queries() as few:
        client.get(MONTH_URL)
    for i in range(12):
        s = _session(CourseFactory(), start + timedelta(days=i, hours=1))
        db.session.add(SessionInstructor(session_id=s.id, user_id=UserFactory().id))
    db.session.commit()
    with count_queries() as many:
        client.get(MONTH_URL)
    assert len(many) == len(few)
    # The month grid names no instructors, so it does not load them.
    assert not any("training_session_instructors" in s for s in many)
    with count_queries() as listed:
        body = client.get(f"{MONTH_URL}&view=list").get_data(as_text=True)
    assert any("training_session_instructors" in s for s in listed)  # the list view does
    assert "Tamsin Teacher" in body


def test_the_calendar_needs_a_login(client):
    resp = client.get("/calendar")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def _events(body: bytes) -> list:
    return icalendar.Calendar.from_ical(body).walk("VEVENT")


def test_session_ics_round_trips_field_by_field(client, viewer):
    course = CourseFactory(title="Aseptic gowning", code="GMP-201")
    trainer = UserFactory(roles=["trainer"], name="Tina Trainer")
    s = _session(
        course,
        utc(_day(15), 8),
        location="Clean room 1",
        notes="Bring safety shoes.",
    )
    db.session.add(SessionInstructor(session_id=s.id, user_id=trainer.id))
    db.session.commit()
    resp = client.get(f"/calendar/sessions/{s.id}.ics")
    assert resp.mimetype == "text/calendar"
    (event,) = _events(resp.data)
    assert str(event["uid"]) == f"session-{s.uid}@cadre"
    start = event.decoded("dtstart")
    assert start.tzinfo.key == "Europe/Zurich" and start.hour == local(utc(_day(15), 8)).hour
    assert event.decoded("dtend") - start == timedelta(hours=2)
    assert str(event["summary"]) == "Aseptic gowning" and str(event["location"]) == "Clean room 1"
    assert int(event["sequence"]) == 0 and str(event["status"]) == "CONFIRMED"
    description = str(event["description"])
    assert "Tina Trainer" in description and "safety shoes" in description
    assert b"BEGIN:VTIMEZONE" in resp.data and b"TZID:Europe/Zurich" in resp.data

    s.sequence, s.status, s.location = 2, "cancelled", "Clean room 2"
    db.session.commit()
    (again,) = _events(client.get(f"/calendar/sessions/{s.id}.ics").data)
    assert str(again["uid"]) == str(event["uid"])  # stable across edits
    assert int(again["sequence"]) == 2 and str(again["status"]) == "CANCELLED"


def test_private_feed_lists_booked_sessions_and_can_be_revoked(client, viewer):
    course = CourseFactory(title="Hygiene")
    booked = _session(course, clock.now() + timedelta(days=3))
    _session(course, clock.now() + timedelta(days=4))  # not booked
    _book(booked, viewer)
    page = client.post("/calendar/feed", data={"csrf_token": csrf(client, "/calendar")})
    url = page.get_data(as_text=True).split('readonly value="')[1].split('"')[0]
    path = url.split("://", 1)[1].split("/", 1)[1]
    client.post("/logout", data={"csrf_token": csrf(client, "/calendar")})
    feed = client.get("/" + path)  # no session: the token is the credential
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = _events(feed.data)
    assert [str(e["uid"]) for e in events] == [f"session-{booked.uid}@cadre"]
    assert client.get("/calendar/feed/not-a-token.ics").status_code == 404


def test_revoking_the_feed_ends_the_old_url(client, viewer):
    token = csrf(client, "/calendar")
    page = client.post("/calendar/feed", data={"csrf_token": token}).get_data(as_text=True)
    path = page.split('readonly value="')[1].split('"')[0].split("://", 1)[1].split("/", 1)[1]
    assert client.get("/" + path).status_code == 200
    client.post("/calendar/feed/revoke", data={"csrf_token": token})
    assert client.get("/" + path).status_code == 404


def test_feed_carries_open_training_due_dates(app, client, viewer):
    from app.classroom import ical
    from app.compliance.engine import run_requirement_engine
    from tests.compliance.factories import RequirementFactory
    from tests.people.factories import JobRoleFactory

    role = JobRoleFactory()
    viewer.job_role_id = role.id
    db.session.commit()
    req = RequirementFactory(job_role=role, due_days=20)
    run_requirement_engine()
    (event,) = _events(ical.feed_ics(viewer))
    assert str(event["summary"]).startswith("Training due:")
    assert isinstance(event.decoded("dtstart"), date)
    assert str(event["uid"]) == f"due-{viewer.id}-{req.id}-1@cadre"


def test_the_shared_grid_follows_bookings_and_marks_only_the_viewers_own(
    app, client, auth, count_queries
):
    from app.classroom.booking import register

    app.config["COMPLIANCE_CACHE_SECONDS"] = 600  # the grid memo on, as in production
    course = CourseFactory(title="Aseptic gowning")
    gowning = _session(course, utc(_day(3), 8), capacity=3)
    vera = UserFactory(timezone="Europe/Zurich")
    sam = UserFactory(timezone="Europe/Zurich")
    url = MONTH_URL
    chip = f'<a data-s="{gowning.id}" class="cal-chip'
    auth.login(vera)
    with count_queries() as first:
        assert "3 left" in client.get(url).get_data(as_text=True)
    with count_queries() as again:
        page = client.get(url).get_data(as_text=True)
    assert "3 left" in page and f"{chip} cal-mine" not in page
    assert len(again) < len(first)  # the grid was not derived again

    register(gowning.id, vera)  # a booking (audited) changes the seats on the next view
    page = client.get(url).get_data(as_text=True)
    assert "2 left" in page and f"{chip} cal-mine" in page
    listing = client.get(f"{MONTH_URL}&view=list").get_data(as_text=True)
    assert "2 of 3 left" in listing and 'Aseptic gowning</a> <span class="badge">booked' in listing
    auth.logout()
    auth.login(sam)  # the same grid for Sam, without Vera's mark
    page = client.get(url).get_data(as_text=True)
    assert "2 left" in page and chip in page and f"{chip} cal-mine" not in page
    week = client.get(f"/calendar?view=week&date={_day(3)}").get_data(as_text=True)
    assert "2 left" in week and f"{chip} cal-mine" not in week
    listing = client.get(f"{MONTH_URL}&view=list").get_data(as_text=True)
    assert "2 of 3 left" in listing and 'class="badge">booked' not in listing
