"""Notification jobs (queue "notifications"): email sends, digests and the daily sweep.

A send that fails is recorded on its row (state 'failed', attempts, error). Under an RQ worker
the job then raises, so RQ retries it with backoff (see enqueue()); run inline (no Redis)
it returns instead, so the request or command that caused it is not broken by a mail server.
Either way the sweep's resend pass picks up whatever is still failed or pending.
"""

from __future__ import annotations

from datetime import date, datetime

from app.platform.jobs import job


class EmailNotSent(Exception):
    """Some emails of this job failed; raised under RQ so it retries them."""


def _raise_for_retry(failed: list[str]) -> None:
    from rq import get_current_job

    if failed and get_current_job() is not None:
        raise EmailNotSent(", ".join(failed[:20]))


@job("notifications.send_email", queue="notifications")
def send_email(notification_id: int) -> dict:
    """Email one notification unless it was sent already (or is skipped or for the digest)."""
    return send_emails([notification_id])


@job("notifications.send_emails", queue="notifications")
def send_emails(notification_ids: list[int]) -> dict:
    """Email a batch of notifications over one SMTP connection (idempotent per notification)."""
    from app.notifications.delivery import deliver_notifications

    out = deliver_notifications(notification_ids)
    _raise_for_retry(out.errors)
    return {k: v for k, v in out.__dict__.items() if k != "errors"}


@job("notifications.send_digests", queue="notifications")
def send_digests(user_ids: list[int]) -> dict:
    """Send each person their daily digest of waiting notifications."""
    from app.notifications.delivery import send_digests as send

    out = send(user_ids)
    _raise_for_retry(out.errors)
    return {k: v for k, v in out.__dict__.items() if k != "errors"}


@job("notifications.daily_sweep", queue="notifications", schedule="SWEEP_CRON", timeout=1800)
def daily_sweep(on: date | str | None = None, now: datetime | str | None = None) -> dict:
    """Create the day's reminders, overdue notices, escalations and session reminders; start
    their emails, the resends and the digests. Safe to run any number of times a day."""
    from app.notifications.sweep import run_sweep

    if isinstance(on, str):
        on = date.fromisoformat(on)
    if isinstance(now, str):
        now = datetime.fromisoformat(now)
    result = run_sweep(on=on, now=now)
    out = {k: v for k, v in result.__dict__.items() if k not in ("on", "seconds")}
    out["on"] = result.on.isoformat()
    out["created"] = result.created
    return out
