"""Email against a real SMTP server on loopback: multipart text + HTML with absolute links,
digests with one-click List-Unsubscribe, failed sends kept and delivered by a later run, and
no email sent twice."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller

from app.extensions import db
from app.notifications import delivery, preferences, sweep
from app.notifications import notify as svc
from app.notifications.models import Notification
from tests.notifications.conftest import BASE, Inbox, free_port


def notify(user, kind="overdue", title="Overdue: Cold chain", url="/courses/7") -> int:
    row = svc.notify(user.id, kind, title, "It was due on 2026-06-30.", url)
    db.session.commit()  # the email follows the commit
    return row.id


def state(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def parts(msg) -> dict[str, str]:
    return {p.get_content_type(): p.get_content() for p in msg.iter_parts()}


def test_a_notification_is_emailed_after_commit_as_multipart_with_absolute_links(
    app, smtp, drain, person
):
    note_id = notify(person)
    drain()
    [msg] = smtp.messages
    assert msg["To"] == "Pat Person <pat@example.com>"
    assert msg["From"] == "Cadre <cadre@example.com>"
    assert msg["Subject"] == "Overdue: Cold chain"
    assert msg.get_content_type() == "multipart/alternative"
    body = parts(msg)
    assert set(body) == {"text/plain", "text/html"}
    assert f"{BASE}/courses/7" in body["text/plain"]
    assert f'href="{BASE}/courses/7"' in body["text/html"]
    links = re.findall(r'href="([^"]+)"', body["text/html"])
    assert links and all(link.startswith(BASE + "/") for link in links)
    assert "List-Unsubscribe" not in msg  # only digests carry it
    row = state(note_id)
    assert (row.email_state, row.email_attempts, row.email_error) == ("sent", 1, None)
    assert row.email_sent_at is not None


def test_sending_again_after_success_sends_nothing(app, smtp, drain, person):
    note_id = notify(person)
    drain()
    out = delivery.deliver_notifications([note_id])
    assert (out.sent, out.unchanged) == (0, 1)
    assert len(smtp.messages) == 1 and state(note_id).email_attempts == 1


def test_a_kind_turned_off_is_not_emailed(app, smtp, drain, person):
    preferences.update_preferences(person.id, ["overdue"], False)
    note_id = notify(person)
    drain()
    assert smtp.messages == [] and state(note_id).email_state == "skipped"


def test_a_failed_send_is_kept_and_a_later_run_delivers_it(app, dead_smtp, drain, person):
    note_id = notify(person)  # nothing listens on the SMTP port
    drain()
    row = state(note_id)
    assert (row.email_state, row.email_attempts) == ("failed", 1)
    assert "Connection" in row.email_error or "refused" in row.email_error.lower()

    delivery.deliver_notifications([note_id])  # a retry that fails again counts again
    assert state(note_id).email_attempts == 2

    # The mail server is back: the sweep's resend pass delivers it, once.
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config["SMTP_PORT"] = controller.port
        result = sweep.run_sweep()
        drain()
        assert result.resent == 1
        sweep.run_sweep()
        drain()
    finally:
        controller.stop()
    assert [m["Subject"] for m in inbox.messages] == ["Overdue: Cold chain"]
    row = state(note_id)
    assert (row.email_state, row.email_attempts, row.email_error) == ("sent", 3, None)


def test_the_digest_is_one_email_with_one_click_unsubscribe(app, smtp, drain, person, client):
    preferences.update_preferences(person.id, [], True)
    ids = [notify(person, title=f"Overdue: Course {n}", url=f"/courses/{n}") for n in (1, 2)]
    drain()
    assert smtp.messages == []
    assert {state(i).email_state for i in ids} == {"digest"}

    sweep.run_sweep()  # the daily sweep sends the digests
    drain()
    sweep.run_sweep()
    drain()
    [msg] = smtp.messages
    assert msg["Subject"] == "Your Cadre digest: 2 notifications"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(.+)>", msg["List-Unsubscribe"]).group(1)
    assert unsubscribe.startswith(f"{BASE}/notifications/unsubscribe/")
    body = parts(msg)
    for n in (1, 2):
        assert f"{BASE}/courses/{n}" in body["text/plain"]
        assert f'href="{BASE}/courses/{n}"' in body["text/html"]
    assert unsubscribe in body["text/plain"]
    assert {state(i).email_state for i in ids} == {"sent"}

    # The mail client's one-click POST (no session, no CSRF token) turns the digest off.
    resp = client.post(urlsplit(unsubscribe).path, data={"List-Unsubscribe": "One-Click"})
    assert resp.status_code == 200
    assert preferences.get_preferences(person.id).daily_digest is False


def test_a_failed_digest_waits_for_the_next_one(app, dead_smtp, drain, person):
    preferences.update_preferences(person.id, [], True)
    note_id = notify(person)
    sweep.run_sweep()
    drain()
    row = state(note_id)
    assert (row.email_state, row.email_attempts) == ("digest", 1)
    assert row.email_error


def test_a_batch_stops_trying_once_the_mail_server_is_down(app, dead_smtp, person):
    preferences.update_preferences(person.id, ["overdue"], False)  # no email on commit
    ids = [notify(person) for _ in range(5)]
    preferences.update_preferences(person.id, [], False)
    db.session.execute(
        Notification.__table__.update()
        .where(Notification.id.in_(ids))
        .values(email_state="pending")
    )
    db.session.commit()
    out = delivery.deliver_notifications(ids)
    assert (out.failed, out.sent) == (delivery.GIVE_UP_BATCH_AFTER, 0)
    states = sorted(state(i).email_state for i in ids)
    assert states == ["failed"] * 3 + ["pending"] * 2  # the rest wait, no attempt spent
