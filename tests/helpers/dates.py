"""Dates for tests, built from the pinned clock so no test depends on the day it runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from app.platform import clock


def next_month() -> date:
    """The first day of the month after today: a month wholly in the future."""
    today = clock.today()
    return date(today.year + today.month // 12, today.month % 12 + 1, 1)


def weekday_after(start: date, weekday: int, weeks: int = 0) -> date:
    """The first `weekday` (0 = Monday) on or after `start`, `weeks` weeks later."""
    return start + timedelta(days=(weekday - start.weekday()) % 7 + 7 * weeks)


def utc(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """`hour:minute` UTC on `day`."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def local(moment: datetime, zone: str = "Europe/Zurich") -> datetime:
    """The same instant on the wall clock of `zone`."""
    return moment.astimezone(ZoneInfo(zone))
