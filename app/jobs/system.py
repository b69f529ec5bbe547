"""Housekeeping jobs."""

from __future__ import annotations

from app.services.auth import prune_login_attempts as _prune


def prune_login_attempts(days: int = 90) -> int:
    """Delete login attempts older than `days`; safe to run any number of times."""
    return _prune(days)
