"""Times and dates as Cadre writes them: ISO 8601 in UTC for the API, exports and the audit
trail, and a person's wall clock (their time zone named) on pages and in messages."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones


def iso_utc(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, e.g. 2025-03-14T09:30:00Z (a naive value is taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_date(value: date | None) -> str | None:
    """ISO 8601 date, e.g. 2025-03-14."""
    return value.isoformat() if value is not None else None


def iso(value: datetime | date | None) -> str | None:
    """iso_utc for an instant, iso_date for a day."""
    if isinstance(value, datetime):
        return iso_utc(value)
    return iso_date(value)


def zone(name: str | None) -> ZoneInfo:
    """The time zone called `name`, UTC when it is empty or not a zone a person may choose."""
    return ZoneInfo(name if name in known_zones() else "UTC")


@cache
def known_zones() -> frozenset[str]:
    """Every IANA time zone name this machine knows (what a person may choose)."""
    return frozenset(available_timezones())
