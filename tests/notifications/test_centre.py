"""The notification centre: the bell and its poll, the list, mark read, click-through,
preferences, one-click unsubscribe, and nobody reaching anyone else's notifications."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from app.extensions import db
from app.notifications import notify as svc
from app.notifications import preferences
from app.notifications.models import Notification, NotificationPreference
from app.platform.errors import Invalid
from tests.conftest import csrf
from tests.helpers.api import ROLES
from tests.people.factories import UserFactory


def add(user, title="Hello", url="/courses", read=False, **extra) -> Notification:
    """A notification as notify() makes it (emails follow the commit)."""
    row = svc.notify(user.id, extra.pop("kind", "overdue"), title, "Body text.", url, **extra)
    db.session.commit()
    if read:
        svc.mark_read(row.id, user.id)
    return row


def checked(page: str, name: str) -> bool:
    return " checked" in re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)


def htmx(**extra):
    return {"HX-Request": "true", **extra}


def test_the_bell_shows_the_unread_count_and_polls_a_cheap_fragment(
    client, auth, person, other, count_queries
):
    for n in range(3):
        add(person, f"Note {n}", read=n == 0)
    add(other, "Not yours")
    auth.login(person)

    page = client.get("/notifications").get_data(as_text=True)
    bell = re.search(r'<a id="nav-bell".*?</a>', page, re.S).group(0)
    assert 'hx-trigger="every 60s' in bell and 'hx-get="/notifications/badge"' in bell
    assert '<span class="nav-bell-count" aria-hidden="true">2</span>' in bell
    assert "2 unread" in bell

    with count_queries() as statements:
        resp = client.get("/notifications/badge", headers=htmx())
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    assert ">2</span>" in resp.get_data(as_text=True)
    # One statement in all: the session load counts the unread notifications with the user.
    assert len(statements) == 1
    assert "FROM notifications" in statements[0] and "count(" in statements[0].lower()


def test_polling_does_not_keep_an_idle_session_alive(app, client, auth, person):
    # A 3 s idle timeout re-signs the cookie on activity after 0.1 s (a thirtieth).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=3)
    auth.login(person)
    client.get("/notifications")  # the first request after sign-in settles the session
    time.sleep(0.15)
    poll = client.get("/notifications/badge", headers=htmx())
    assert poll.status_code == 200 and "Set-Cookie" not in poll.headers
    page = client.get("/notifications")  # real activity does push the timeout back
    assert "cadre_session=" in page.headers.get("Set-Cookie", "")


def test_a_signed_out_poll_stops_polling(client):
    resp = client.get("/notifications/badge", headers=htmx())
    assert resp.status_code == 286  # htmx: stop polling
    assert "hx-get" not in resp.get_data(as_text=True)


def test_the_list_is_newest_first_paginated_with_unread_highlighted(
    client, auth, person, count_queries
):
    for n in range(23):
        add(person, f"Note {n:02d}", read=n % 2 == 0)
    auth.login(person)
    with count_queries() as first:
        body = client.get("/notifications").get_data(as_text=True)
    titles = re.findall(r'class="notice-title">(?:<span[^>]*>Unread: </span>)?([^<]+)<', body)
    assert titles == [f"Note {n:02d}" for n in range(22, 2, -1)]
    assert body.count('class="notice notice-unread"') == 10
    assert "Page 1 of 2" in body
    with count_queries() as second:
        rest = client.get("/notifications?page=2", headers=htmx()).get_data(as_text=True)
    assert "<html" not in rest  # htmx gets the fragment
    assert re.findall(r'class="notice-title">(?:<span[^>]*>Unread: </span>)?([^<]+)<', rest) == [
        "Note 02",
        "Note 01",
        "Note 00",
    ]
    assert len(second) <= len(first)


def test_mark_read_one_and_all(client, auth, person):
    first, second, third = (add(person, f"Note {n}") for n in range(3))
    auth.login(person)
    token = csrf(client, "/notifications")

    resp = client.post(
        f"/notifications/{first.id}/read", data={"csrf_token": token}, headers=htmx()
    )
    assert resp.status_code == 200
    assert resp.headers["HX-Trigger"] == "notifications-changed"  # the bell refreshes
    assert "notice-unread" not in resp.get_data(as_text=True)
    assert svc.unread_count(person.id) == 2

    resp = client.post(f"/notifications/{second.id}/read", data={"csrf_token": token})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/notifications")

    resp = client.post("/notifications/read-all", data={"csrf_token": token})
    assert resp.status_code == 303
    assert svc.unread_count(person.id) == 0
    db.session.expire_all()
    assert db.session.get(Notification, third.id).read_at is not None


def test_clicking_through_marks_read_and_goes_where_it_is_resolved(client, auth, person):
    note = add(person, "Overdue: Cold chain", url="/courses/7")
    auth.login(person)
    body = client.get("/notifications").get_data(as_text=True)
    assert f'action="/notifications/{note.id}/open"' in body  # a POST: GETs never write
    token = {"csrf_token": csrf(client, "/notifications")}
    resp = client.post(f"/notifications/{note.id}/open", data=token)
    assert resp.status_code == 303 and resp.headers["Location"] == "/courses/7"
    assert svc.unread_count(person.id) == 0
    # Only local paths are followed.
    other = add(person, "Odd", url="//evil.example/x")
    resp = client.post(f"/notifications/{other.id}/open", data=token)
    assert resp.headers["Location"] == "/notifications"


def test_nobody_sees_or_marks_anyone_elses_notifications(client, auth, person):
    mine = add(person, "Pat's secret")
    admin = UserFactory(roles=["admin", "hr", "qa", "manager"])
    auth.login(admin)
    assert "Pat&#39;s secret" not in client.get("/notifications").get_data(as_text=True)
    token = csrf(client, "/notifications")
    for action in ("read", "open"):
        resp = client.post(f"/notifications/{mine.id}/{action}", data={"csrf_token": token})
        assert resp.status_code == 404
    client.post("/notifications/read-all", data={"csrf_token": token})
    assert svc.unread_count(person.id) == 1


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_notification_centre(client, auth, role):
    auth.login(UserFactory(roles=[role]))
    assert client.get("/notifications").status_code == 200
    assert client.get("/notifications/preferences").status_code == 200


def test_signed_out_people_are_sent_to_sign_in(client):
    for path in ("/notifications", "/notifications/preferences"):
        resp = client.get(path)
        assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_preferences_turn_kinds_off_and_choose_the_digest(client, auth, person):
    auth.login(person)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert page.count('name="email_') == len(preferences.KINDS)
    assert checked(page, "email_overdue") and checked(page, "email_due_reminder")

    data = {"csrf_token": csrf(client, "/notifications/preferences"), "daily_digest": "y"}
    data.update({f"email_{k}": "y" for k in preferences.KINDS if k != "due_reminder"})
    resp = client.post("/notifications/preferences", data=data)
    assert resp.status_code == 303

    prefs = preferences.get_preferences(person.id)
    assert prefs.daily_digest is True
    assert [k for k, on in prefs.email_on.items() if not on] == ["due_reminder"]
    assert add(person, kind="due_reminder").email_state == "skipped"
    assert add(person, kind="overdue").email_state == "digest"
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert not checked(page, "email_due_reminder") and checked(page, "daily_digest")
    with pytest.raises(Invalid):
        preferences.update_preferences(person.id, ["no_such_kind"], False)


def test_one_click_unsubscribe_turns_the_digest_off(client, person):
    preferences.update_preferences(person.id, [], True)
    token = db.session.get(NotificationPreference, person.id).unsubscribe_token
    url = f"/notifications/unsubscribe/{token}"

    page = client.get(url)  # a link scanner's GET changes nothing
    assert page.status_code == 200 and "Stop Cadre emails?" in page.get_data(as_text=True)
    assert preferences.get_preferences(person.id).daily_digest is True

    # RFC 8058: the mail client POSTs this body, with no session and no CSRF token.
    resp = client.post(url, data={"List-Unsubscribe": "One-Click"})
    assert resp.status_code == 200 and "Unsubscribed" in resp.get_data(as_text=True)
    prefs = preferences.get_preferences(person.id)
    assert prefs.daily_digest is False and not any(prefs.email_on.values())
    assert add(person).email_state == "skipped"

    assert client.post("/notifications/unsubscribe/not-a-token").status_code == 400
    assert client.get("/notifications/unsubscribe/not-a-token").status_code == 404
