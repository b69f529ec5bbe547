"""Notifications: one entry point, notify(), for every message Cadre sends a person; the
after-commit start of its email; reading and marking notifications read.

The row is the in-app notification; email (immediate or in the daily digest) follows from the
person's preferences after the caller commits: the commit hook starts one send job per row.
Notifications are messages, not training records: they carry no audit rows.

The rest of the domain builds on this module: `preferences` (what a person gets emailed,
unsubscribe), `delivery` (sending emails and digests over SMTP, retries and failures) and
`sweep` (the daily sweep that creates the reminders and starts their emails, the resends and
the digests).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from flask import current_app
from sqlalchemy import Text, case, cast, event, func, inspect, select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.notifications.models import Notification, NotificationPreference
from app.people import auth
from app.people.models import User
from app.platform import clock
from app.platform.errors import NotFound
from app.platform.pagination import Page, paginate
from app.platform.web.urls import path_for

log = logging.getLogger("cadre.notifications")

# Notifications per send job when the sweep enqueues in bulk.
EMAIL_BATCH = 500

N = Notification
P = NotificationPreference

_NEW = "cadre_new_notifications"

# The nav bell: every request's user load counts the person's unread notifications.
auth.add_to_session_load(
    User.unread_notifications,
    select(func.count())
    .where(N.user_id == User.id, N.read_at.is_(None))
    .correlate(User)
    .scalar_subquery(),
)


# --- creating ------------------------------------------------------------------------------


def notify(
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    url: str | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Add a notification to the session (the caller commits); None if `dedupe_key` exists.

    `dedupe_key` names the item and threshold (e.g. "due:assignment:42:7d") so a reminder is
    created once however often the sweep that creates it runs. Once the caller commits, the
    email follows (a job per notification) unless the person turned the kind off or chose
    the daily digest.
    """
    if dedupe_key is not None:
        exists = db.session.scalar(select(N.id).where(N.dedupe_key == dedupe_key))
        if exists:
            return None
    row = Notification(
        user_id=user_id,
        kind=kind,
        title=title[:300],
        body=body,
        url=url,
        dedupe_key=dedupe_key,
        email_state=_email_state(db.session.get(P, user_id), kind),
        email_attempts=0,
    )
    db.session.add(row)
    if row.email_state == "pending":
        db.session.info.setdefault(_NEW, []).append(row)
    return row


def _email_state(pref: NotificationPreference | None, kind: str) -> str:
    if pref is None:
        return "pending"
    return email_state_for(kind, pref.email_off or [], bool(pref.daily_digest))


def email_state_for(kind: str, email_off: Sequence[str], digest: bool) -> str:
    """Kind switched off: skipped (not in the digest either); digest chosen: digest."""
    if kind in email_off:
        return "skipped"
    return "digest" if digest else "pending"


def email_state_sql(kind, pref) -> case:
    """The same decision in SQL for set-based inserts (`kind` a plain string)."""
    return case(
        (cast(pref.email_off, Text).like(f'%"{kind}"%'), "skipped"),
        (pref.daily_digest.is_(True), "digest"),
        else_="pending",
    )


def _after_commit(session: Session) -> None:
    """Email what notify() added once it is committed (the send job must see the row)."""
    rows = session.info.pop(_NEW, None)
    if not rows:
        return
    ids = [state.identity[0] for state in map(inspect, rows) if state.identity is not None]
    if ids:
        enqueue_emails(ids, batch=1)


def _after_rollback(session: Session, previous) -> None:
    if not previous.nested:
        session.info.pop(_NEW, None)


if not event.contains(Session, "after_commit", _after_commit):
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)


def enqueue_emails(ids: Sequence[int], batch: int = EMAIL_BATCH) -> int:
    """Start the send jobs for these notifications: one per id, or one per `batch` ids.

    Runs in an app context of its own, so an inline run (no Redis) gets a database session of
    its own: this may be called from an after-commit hook, where the caller's session can run
    no SQL. A failure to enqueue is logged, not raised: the rows stay pending and the sweep's
    resend pass sends them. Returns the number of jobs started.
    """
    from app.platform.jobs import enqueue

    jobs = 0
    with current_app.app_context():
        for start in range(0, len(ids), batch):
            chunk = list(ids[start : start + batch])
            try:
                if len(chunk) == 1:
                    enqueue("notifications.send_email", chunk[0], queue="notifications")
                else:
                    enqueue("notifications.send_emails", chunk, queue="notifications")
            except Exception:
                log.exception("could not start the email job for notifications %s", chunk[:5])
            else:
                jobs += 1
    return jobs


# --- reading and marking -------------------------------------------------------------------


def unread_count(user_id: int) -> int:
    """Unread notifications of one person: one COUNT on (user_id, read_at)."""
    return (
        db.session.scalar(
            select(func.count()).select_from(N).where(N.user_id == user_id, N.read_at.is_(None))
        )
        or 0
    )


def list_notifications(user_id: int, page: int = 1, per_page: int = 20) -> Page:
    """One person's notifications, newest first."""
    query = select(N).where(N.user_id == user_id).order_by(N.created_at.desc(), N.id.desc())
    return paginate(query, page, per_page)


def get_own(notification_id: int, user_id: int) -> Notification:
    """The notification if it is this person's; raises NotFound otherwise (also for others')."""
    row = db.session.get(N, notification_id)
    if row is None or row.user_id != user_id:
        raise NotFound("No such notification.")
    return row


def mark_read(notification_id: int, user_id: int) -> Notification:
    """Mark one of the person's notifications read; raises NotFound for anyone else's."""
    row = get_own(notification_id, user_id)
    if row.read_at is None:
        row.read_at = clock.now()
        db.session.commit()
    return row


def mark_all_read(user_id: int) -> int:
    """Mark every unread notification of the person read; returns how many."""
    result = db.session.execute(
        update(N)
        .where(N.user_id == user_id, N.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount or 0


def open_notification(notification_id: int, user_id: int) -> str:
    """Mark it read and return where it leads (a local path; the list when it has none)."""
    row = mark_read(notification_id, user_id)
    url = row.url or ""
    if url.startswith("/") and not url.startswith("//"):
        return url
    return path_for("notifications.index")
