"""The one clock: every business "now" and "today" in Cadre comes from here.

SQL gets these values as parameters (never the database's own `now()`/`CURRENT_DATE`), so a
test that pins the clock pins the whole app, and the app server and database may disagree on
the time without changing an answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in UTC: the business day of due dates, validity and statuses."""
    return now().date()
