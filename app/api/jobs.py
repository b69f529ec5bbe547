"""The API shell's housekeeping job: idempotency keys past their 24 hours are deleted."""

from __future__ import annotations

from app.platform.jobs import job


@job("api.purge_idempotency_keys", schedule="IDEMPOTENCY_PURGE_CRON", timeout=600)
def purge_idempotency_keys() -> dict:
    """Delete the idempotency keys (and stored answers) older than 24 hours; safe to repeat."""
    from app.api.idempotency import purge_expired

    return {"purged": purge_expired()}
