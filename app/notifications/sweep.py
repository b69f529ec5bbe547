"""The daily sweep: creates the day's reminders (each domain adds its own through
notifications.reminders_due), then starts their emails, the resends of what never went, and the
digests; and the SQL helpers the reminder handlers build their rows with.

Reminders are created set-based: one INSERT ... SELECT per domain (over the compliance status
query, over tomorrow's sessions), each reminder keyed by item and threshold (`dedupe_key`) so it
exists once however often the sweep runs.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, cast, literal, select, text

from app.extensions import db
from app.notifications.delivery import MAX_EMAIL_ATTEMPTS
from app.notifications.events import reminders_due
from app.notifications.models import Notification, NotificationPreference
from app.notifications.notify import enqueue_emails
from app.platform import clock
from app.platform.web.urls import path_for

log = logging.getLogger("cadre.notifications")

# A pending notification older than this has lost its send job (crash, Redis flushed).
STUCK_AFTER = timedelta(minutes=10)
# People per digest job.
DIGEST_BATCH = 200

N = Notification
P = NotificationPreference


# --- the sweep -----------------------------------------------------------------------------


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


# --- resends and waiting digests -----------------------------------------------------------


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


# --- SQL for the reminders_due handlers ----------------------------------------------------


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
