"""Times and dates as Cadre writes them: ISO 8601 in UTC for the API, exports and the audit
trail, and a person's wall clock (their time zone named) on pages and in messages.

The one rule for pages: every time is shown in the viewer's zone (their setting, the
organisation's for anonymous pages) with the zone named ("Mon 14 Dec 2026 09:30 CET"), never
the same moment in two zones. `wall` and `wall_range` write it; the Jinja filters in
app.platform.web.filters call them with the viewer's zone."""

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


DATE_TIME = "%a %d %b %Y %H:%M"
_TIME_CODES = ("%H", "%I", "%M", "%S", "%X", "%c", "%p", "%T", "%R")


def zone_label(moment: datetime) -> str:
    """The name of `moment`'s zone as people read it: the abbreviation when there is one
    (CET, GMT, BST, EST, UTC), else the zone's key (Asia/Dubai has only "+04")."""
    abbr = moment.tzname() or ""
    if abbr.isalpha():
        return abbr
    key = getattr(moment.tzinfo, "key", None)
    return key or abbr or "UTC"


def has_time(fmt: str) -> bool:
    """Whether a strftime format shows a time of day (and so needs its zone named)."""
    return any(code in fmt for code in _TIME_CODES)


def wall(value: datetime | None, tz_name: str | None, fmt: str = DATE_TIME) -> str:
    """`value` as a wall-clock time in `tz_name`, the zone named when a time is shown,
    e.g. "Mon 14 Dec 2026 09:30 CET" (a naive value is taken as UTC)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(zone(tz_name))
    text = local.strftime(fmt)
    return f"{text} {zone_label(local)}" if has_time(fmt) else text


def wall_range(start: datetime, end: datetime, tz_name: str | None, fmt: str = DATE_TIME) -> str:
    """A start and end in one zone named once: "Mon 14 Dec 2026 09:30–11:30 CET" (the end's
    date is written too when it is another day)."""
    where = zone(tz_name)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    if end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    a, b = start.astimezone(where), end.astimezone(where)
    tail = b.strftime("%H:%M") if a.date() == b.date() else b.strftime(fmt)
    label = zone_label(b)
    if zone_label(a) != label:  # a clock change inside the session: name both
        return f"{a.strftime(fmt)} {zone_label(a)}–{tail} {label}"
    return f"{a.strftime(fmt)}–{tail} {label}"


def zone(name: str | None) -> ZoneInfo:
    """The time zone called `name`, UTC when it is empty or not a zone a person may choose."""
    return ZoneInfo(name if name in known_zones() else "UTC")


@cache
def known_zones() -> frozenset[str]:
    """Every IANA time zone name this machine knows (what a person may choose)."""
    return frozenset(available_timezones())
