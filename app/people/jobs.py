"""Housekeeping jobs."""

from __future__ import annotations

from app.people.auth import prune_login_attempts as _prune
from app.platform.jobs import job


@job("people.prune_login_attempts", aliases=("system.prune_login_attempts",))
def prune_login_attempts(days: int = 90) -> int:
    """Delete login attempts older than `days`; safe to run any number of times."""
    return _prune(days)
