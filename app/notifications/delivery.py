"""Email delivery: sending notifications and daily digests over SMTP, claiming each send so
it happens once, recording failures for the retries.

Delivery is at-least-once and never lost: a send claims its row with
UPDATE ... WHERE email_state IN ('pending', 'failed') inside the transaction that then records
the result, so a retry after a success finds nothing to claim, a crash mid-send rolls the
claim back, and the sweep's resend pass picks up whatever is still pending or failed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from flask import render_template
from sqlalchemy import select, update

from app.extensions import db
from app.notifications.models import Notification, NotificationPreference
from app.notifications.notify import email_state_for
from app.notifications.preferences import KINDS, preference_row
from app.people.models import User
from app.platform import clock
from app.platform import mail as mailer
from app.platform.web.urls import path_for, public_url

log = logging.getLogger("cadre.notifications")

# Sends per notification before the resend pass gives up. A send job tries up to 4 times
# (RQ retries it after 5 s, 30 s and 2 min); the daily sweep starts it again: about five days
# of a mail server being down. A row given up on stays 'failed' with its error.
MAX_EMAIL_ATTEMPTS = 20
# Consecutive failed sends after which a batch stops trying.
GIVE_UP_BATCH_AFTER = 3

N = Notification
P = NotificationPreference


def absolute_url(path: str | None) -> str:
    """A link for an email: PUBLIC_BASE_URL + path (absolute URLs pass through); no path is the
    notifications page."""
    return public_url(path or path_for("notifications.index"))


@dataclass
class Delivery:
    """What a batch of sends did, by outcome."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    digest: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def deliver_notifications(ids: Sequence[int]) -> Delivery:
    """Email each notification that is still pending or failed, over one SMTP connection.

    A send is claimed (state 'sent', attempts + 1) by an UPDATE that only matches a pending or
    failed row, in the transaction that commits after the SMTP server took the message: a
    second run finds nothing to claim, and a crash mid-send leaves the row as it was. A failed
    send stores the error and counts the attempt. The person's preferences are read at send
    time: a kind turned off since is skipped, a digest chosen since waits for the digest.
    """
    out = Delivery()
    if not ids:
        return out
    rows = db.session.execute(
        select(
            N.id,
            N.kind,
            N.title,
            N.body,
            N.url,
            N.email_state,
            User.email,
            User.name,
            User.active,
            P.email_off,
            P.daily_digest,
        )
        .join(User, User.id == N.user_id)
        .outerjoin(P, P.user_id == N.user_id)
        .where(N.id.in_(list(ids)))
        .order_by(N.id)
    ).all()
    failing = 0
    with mailer.connection() as conn:
        for note in rows:
            if failing >= GIVE_UP_BATCH_AFTER:
                # The mail server is down: leave the rest pending for the retry (or the
                # resend pass) instead of waiting out a timeout and an attempt on each.
                out.errors.append("mail server unavailable: rest of the batch left pending")
                break
            outcome = _deliver_one(conn, note)
            setattr(out, outcome, getattr(out, outcome) + 1)
            failing = failing + 1 if outcome == "failed" else 0
            if outcome == "failed":
                out.errors.append(f"notification {note.id}")
    db.session.commit()
    return out


def _claim(notification_id: int, values: dict) -> bool:
    claimed = db.session.execute(
        update(N)
        .where(
            N.id == notification_id,
            N.email_state.in_(("pending", "failed")),
            N.email_attempts < MAX_EMAIL_ATTEMPTS,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(claimed.rowcount)


def _deliver_one(conn, note) -> str:
    if note.email_state not in ("pending", "failed"):
        return "unchanged"
    state = "skipped"
    if note.active and note.email:
        state = email_state_for(note.kind, note.email_off or [], bool(note.daily_digest))
    if state != "pending":
        changed = _claim(note.id, {"email_state": state})
        db.session.commit()
        return state if changed else "unchanged"
    if not _claim(
        note.id,
        {
            "email_state": "sent",
            "email_sent_at": clock.now(),
            "email_attempts": N.email_attempts + 1,
            "email_error": None,
        },
    ):
        db.session.rollback()
        return "unchanged"
    try:
        conn.send(_notification_message(note))
    except mailer.MailError as exc:
        db.session.rollback()
        _record_failure(note.id, str(exc))
        return "failed"
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return "sent"


def _record_failure(notification_id: int, error: str) -> None:
    log.warning("email for notification %s failed: %s", notification_id, error)
    db.session.execute(
        update(N)
        .where(N.id == notification_id, N.email_state.in_(("pending", "failed")))
        .values(
            email_state="failed",
            email_attempts=N.email_attempts + 1,
            email_error=error[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _notification_message(note):
    context = {
        "name": note.name,
        "title": note.title,
        "body": note.body,
        "link": absolute_url(note.url),
        "kind_label": KINDS.get(note.kind),
        "preferences_url": absolute_url(path_for("notifications.preferences")),
    }
    return mailer.build_message(
        note.name,
        note.email,
        note.title,
        render_template("email/notification.txt", **context),
        render_template("email/notification.html", **context),
    )


def send_digest(user_id: int, conn=None) -> str:
    """Email the person one digest of their notifications waiting for it.

    Claimed like single sends (the rows turn 'sent' in the transaction that commits after the
    SMTP server took the message); a failure leaves them waiting for the next digest with the
    attempt and error recorded. Kinds switched off since are skipped. Carries List-Unsubscribe
    (one-click, RFC 8058) pointing at the person's unsubscribe link. Returns the outcome.
    """
    person = db.session.get(User, user_id)
    if person is None:
        return "unchanged"
    pref = preference_row(user_id)
    db.session.commit()  # the unsubscribe token outlives a failed send
    waiting = (N.user_id == user_id, N.email_state == "digest")
    skip = update(N).where(*waiting).values(email_state="skipped")
    if not person.active or not person.email:
        db.session.execute(skip.execution_options(synchronize_session=False))
        db.session.commit()
        return "skipped"
    if pref.email_off:
        skip = skip.where(N.kind.in_(list(pref.email_off)))
        db.session.execute(skip.execution_options(synchronize_session=False))
    claimed = db.session.execute(
        update(N)
        .where(*waiting)
        .values(
            email_state="sent",
            email_sent_at=clock.now(),
            email_attempts=N.email_attempts + 1,
            email_error=None,
        )
        .returning(N.id, N.kind, N.title, N.body, N.url, N.created_at)
        .execution_options(synchronize_session=False)
    ).all()
    if not claimed:
        db.session.commit()
        return "unchanged"
    claimed.sort(key=lambda r: (r.created_at, r.id))
    msg = _digest_message(person, pref, claimed)
    try:
        if conn is None:
            mailer.send(msg)
        else:
            conn.send(msg)
    except mailer.MailError as exc:
        db.session.rollback()
        log.warning("digest for user %s failed: %s", user_id, exc)
        db.session.execute(
            update(N)
            .where(N.id.in_([r.id for r in claimed]), N.email_state == "digest")
            .values(email_attempts=N.email_attempts + 1, email_error=str(exc)[:2000])
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        return "failed"
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return "sent"


def _digest_message(person: User, pref: NotificationPreference, rows) -> object:
    unsubscribe_url = absolute_url(
        path_for("notifications.unsubscribe", token=pref.unsubscribe_token)
    )
    items = [
        {"title": r.title, "body": r.body, "link": absolute_url(r.url), "at": r.created_at}
        for r in rows
    ]
    context = {
        "name": person.name,
        "items": items,
        "unsubscribe_url": unsubscribe_url,
        "preferences_url": absolute_url(path_for("notifications.preferences")),
    }
    count = len(items)
    subject = f"Your Cadre digest: {count} notification{'' if count == 1 else 's'}"
    return mailer.build_message(
        person.name,
        person.email,
        subject,
        render_template("email/digest.txt", **context),
        render_template("email/digest.html", **context),
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def send_digests(user_ids: Sequence[int]) -> Delivery:
    """One digest per person, over one SMTP connection."""
    out = Delivery()
    failing = 0
    with mailer.connection() as conn:
        for user_id in user_ids:
            if failing >= GIVE_UP_BATCH_AFTER:
                out.errors.append("mail server unavailable: the rest wait for the next digest")
                break
            outcome = send_digest(user_id, conn)
            setattr(out, outcome, getattr(out, outcome) + 1)
            failing = failing + 1 if outcome == "failed" else 0
            if outcome == "failed":
                out.errors.append(f"user {user_id}")
    return out
