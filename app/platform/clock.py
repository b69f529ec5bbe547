"""The one clock: every business "now" and "today" in Cadre comes from here.

SQL gets these values as parameters (never the database's own `now()`/`CURRENT_DATE`), so a
test that pins this clock pins every due date, expiry and status the app works out, while the
wire keeps real time (S3 request signatures, cookie signatures, RQ's schedule, other
processes).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

# Tests and seed-demo only (pin): how far this process's business clock runs from the real one.
_offset = timedelta(0)


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC) + _offset


def today() -> date:
    """Today's date in UTC: the business day of due dates, validity and statuses."""
    return now().date()


def pin(moment: datetime | None) -> None:
    """Tests, and seed-demo replaying its history: make now() read `moment` from this instant
    on, time running on from there; None puts the real time back."""
    global _offset
    if moment is None:
        _offset = timedelta(0)
        return
    if moment.tzinfo is None:
        raise ValueError("pin a timezone-aware moment")
    _offset = moment - datetime.now(UTC)
