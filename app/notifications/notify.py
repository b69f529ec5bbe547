"""Notifications: one entry point, notify(), for every message Cadre sends a person.

The row is the in-app notification; email (immediate or in the daily digest) follows from the
person's preferences after the caller commits. The daily sweep creates the compliance and
session reminders set-based: one INSERT ... SELECT over the compliance status query, each
reminder keyed by item and threshold (`dedupe_key`) so it exists once however often the sweep
runs. Notifications are messages, not training records: they carry no audit rows.

Email delivery is at-least-once and never lost: a send claims its row with
UPDATE ... WHERE email_state IN ('pending', 'failed') inside the transaction that then records
the result, so a retry after a success finds nothing to claim, a crash mid-send rolls the
claim back, and the sweep's resend pass picks up whatever is still pending or failed.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app, render_template
from sqlalchemy import (
    String,
    Text,
    and_,
    case,
    cast,
    event,
    func,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from app.extensions import db
from app.notifications.events import reminders_due
from app.notifications.models import Notification, NotificationPreference
from app.people import auth
from app.people.models import User
from app.platform import clock
from app.platform import mail as mailer
from app.platform.errors import Invalid, NotFound
from app.platform.pagination import Page, paginate
from app.platform.web.urls import path_for, public_url

log = logging.getLogger("cadre.notifications")

# Kinds a person can switch email off for, with the label the preferences page shows. Other
# kinds (passed to notify() by other areas) are emailed unless the person chose the digest.
KINDS: dict[str, str] = {
    "due_reminder": "Training coming due (30, 7 and 1 days before)",
    "overdue": "My training is overdue",
    "escalation": "Training of people who report to me is 7 days overdue",
    "session_reminder": "Sessions I am booked on (24 hours before)",
    # Sent by the classroom domain as bookings change.
    "session_registered": "Someone booked me on a session",
    "session_promoted": "A seat became free for me on a waitlist",
    "session_changed": "A session I am booked on moved or changed",
    "session_cancelled": "A session I am booked on was cancelled",
}
# Sends per notification before the resend pass gives up. A send job tries up to 4 times
# (RQ retries it after 5 s, 30 s and 2 min); the daily sweep starts it again: about five days
# of a mail server being down. A row given up on stays 'failed' with its error.
MAX_EMAIL_ATTEMPTS = 20
# A pending notification older than this has lost its send job (crash, Redis flushed).
STUCK_AFTER = timedelta(minutes=10)
# Notifications per send job when the sweep enqueues in bulk; people per digest job.
EMAIL_BATCH = 500
DIGEST_BATCH = 200
# Consecutive failed sends after which a batch stops trying.
GIVE_UP_BATCH_AFTER = 3

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


# --- preferences ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    email_on: dict[str, bool]
    daily_digest: bool


def get_preferences(user_id: int) -> Preferences:
    """The person's email choices (defaults when they never chose: every kind, no digest)."""
    pref = db.session.get(P, user_id)
    off = set(pref.email_off or []) if pref else set()
    return Preferences(
        email_on={kind: kind not in off for kind in KINDS},
        daily_digest=bool(pref and pref.daily_digest),
    )


def update_preferences(user_id: int, email_off: Iterable[str], daily_digest: bool) -> Preferences:
    """Store which kinds are not emailed and whether email comes as one daily digest.

    Raises Invalid for an unknown kind.
    """
    off = sorted(set(email_off))
    unknown = [k for k in off if k not in KINDS]
    if unknown:
        raise Invalid("Unknown notification kind.", {"email_off": [f"Unknown: {unknown[0]}"]})
    pref = _preference_row(user_id)
    pref.email_off = off
    pref.daily_digest = bool(daily_digest)
    db.session.commit()
    return get_preferences(user_id)


def _preference_row(user_id: int) -> NotificationPreference:
    pref = db.session.get(P, user_id)
    if pref is None:
        pref = NotificationPreference(user_id=user_id, email_off=[], daily_digest=False)
        db.session.add(pref)
    if not pref.unsubscribe_token:
        pref.unsubscribe_token = secrets.token_urlsafe(32)
    return pref


def preference_for_token(token: str) -> NotificationPreference:
    """The preferences an unsubscribe link belongs to; raises NotFound for an unknown token."""
    pref = None
    if token and len(token) <= 64:
        pref = db.session.scalar(select(P).where(P.unsubscribe_token == token))
    if pref is None:
        raise NotFound("This unsubscribe link is not valid.")
    return pref


def unsubscribe(token: str) -> NotificationPreference:
    """One-click unsubscribe (RFC 8058) from a digest: no more digest and no more email.

    Turning only the digest off would switch the person to one email per notification, the
    opposite of what "unsubscribe" asks for; the notification centre keeps working and the
    preferences page turns email back on. Raises NotFound for an unknown token.
    """
    pref = preference_for_token(token)
    pref.daily_digest = False
    pref.email_off = sorted(KINDS)
    db.session.commit()
    return pref


# --- email ---------------------------------------------------------------------------------


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
    pref = _preference_row(user_id)
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


def digest_recipients() -> list[int]:
    """People with notifications waiting for their digest (also if they have since turned the
    digest off: the waiting ones still go, once).

    Only people with a preferences row can have any, so each of those is probed on the
    (user_id, ...) index instead of scanning every notification for its state.
    """
    waiting = select(N.id).where(N.user_id == P.user_id, N.email_state == "digest").exists()
    return list(db.session.scalars(select(P.user_id).where(waiting).order_by(P.user_id)))


def undelivered_ids(now: datetime | None = None) -> list[int]:
    """Notifications whose email never went: failed ones under the attempt limit, and pending
    ones whose send job is gone (older than STUCK_AFTER)."""
    now = now or clock.now()
    stuck = and_(N.email_state == "pending", N.created_at < now - STUCK_AFTER)
    return list(
        db.session.scalars(
            select(N.id)
            .where(
                (N.email_state == "failed") | stuck,
                N.email_attempts < MAX_EMAIL_ATTEMPTS,
            )
            .order_by(N.id)
        )
    )


# --- the daily sweep -----------------------------------------------------------------------


@dataclass
class SweepResult:
    on: date
    due_reminders: int = 0
    overdue: int = 0
    escalations: int = 0
    session_reminders: int = 0
    emails_queued: int = 0
    resent: int = 0
    digests: int = 0
    jobs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return self.due_reminders + self.overdue + self.escalations + self.session_reminders


_SWEEP_COUNTERS = {
    "due_reminder": "due_reminders",
    "overdue": "overdue",
    "escalation": "escalations",
    "session_reminder": "session_reminders",
}


def run_sweep(on: date | None = None, now: datetime | None = None) -> SweepResult:
    """Create today's reminders, then start their emails, the resends and the digests.

    `on` is the day the compliance thresholds are measured against (default today, UTC);
    `now` the moment session reminders look 24 hours ahead of (default the current time).
    Idempotent: a second run the same day creates and sends nothing new.
    """
    now = now or clock.now()
    on = on or now.date()
    result = SweepResult(on=on)
    lap_started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal lap_started
        result.seconds[name] = time.perf_counter() - lap_started
        lap_started = time.perf_counter()

    if db.session.get_bind().dialect.name == "postgresql":
        # The status query's hashes and sorts spill to disk at the default 4 MB over a large
        # organisation; for this transaction only.
        db.session.execute(text("SET LOCAL work_mem = '64MB'"))
    resend = undelivered_ids()
    lap("resend_select")
    created: list[tuple[str, int, str]] = []
    for made in reminders_due.publish(on=on, now=now):
        created += made
    db.session.commit()
    lap("reminders_insert")
    for kind, count in Counter(kind for kind, _id, _state in created).items():
        setattr(result, _SWEEP_COUNTERS[kind], count)
    fresh = [i for _kind, i, state in created if state == "pending"]
    result.resent = len(resend)
    result.emails_queued = len(fresh) + len(resend)
    result.jobs = enqueue_emails(sorted(set(resend) | set(fresh)))
    lap("email_enqueue")
    recipients = digest_recipients()
    result.digests = len(recipients)
    result.jobs += enqueue_digests(recipients)
    lap("digest_enqueue")
    return result


def enqueue_digests(user_ids: Sequence[int]) -> int:
    from app.platform.jobs import enqueue

    jobs = 0
    for start in range(0, len(user_ids), DIGEST_BATCH):
        chunk = list(user_ids[start : start + DIGEST_BATCH])
        try:
            enqueue("notifications.send_digests", chunk, queue="notifications")
        except Exception:
            log.exception("could not start the digest job for users %s", chunk[:5])
        else:
            jobs += 1
    return jobs


def path_sql(endpoint: str, param: str, column):
    """SQL building the path of `endpoint` with `column` as its id (routes stay the truth)."""
    marker = "987654321"
    before, _, after = path_for(endpoint, **{param: int(marker)}).partition(marker)
    return literal(before) + cast(column, String) + literal(after)


def dedupe_key_sql(*parts) -> object:
    """'a:b:c' from SQL expressions and strings."""
    expr = None
    for part in parts:
        piece = literal(part) if isinstance(part, str) else cast(part, String)
        expr = piece if expr is None else expr + literal(":") + piece
    return expr
