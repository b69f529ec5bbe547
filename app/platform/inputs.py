"""Coerce untrusted form or JSON values into typed ones, collecting per-field error messages.

Forms send strings, JSON sends typed values; both go through the same helpers so a service
validates once for the page and the API. Blank means absent (None).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

# The database's integer range (PostgreSQL `integer`): every id, count and number taken from
# outside must fit it, or the query fails (PostgreSQL and SQLite both refuse larger values).
MAX_ID = 2_147_483_647
_INT = re.compile(r"^[+-]?\d{1,4000}$", re.ASCII)  # int() refuses longer strings
_ID = re.compile(r"\d{1,10}", re.ASCII)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def to_int(
    errors: dict, name: str, value: Any, lo: int, hi: int, *, required: bool = False
) -> int | None:
    """An integer in [lo, hi], None when blank (an error when required)."""
    if blank(value):
        if required:
            errors[name] = ["Required."]
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _INT.match(value.strip()):
        number = int(value.strip())
    else:
        errors[name] = ["Must be a whole number."]
        return None
    if not lo <= number <= hi:
        errors[name] = [f"Must be between {lo} and {hi}."]
        return None
    return number


def as_id(value: Any, *, text: bool = True) -> int | None:
    """`value` as an id (1..MAX_ID) when it is one: an int, or (unless `text` is False) a
    string of ASCII digits; otherwise None. For lookups where anything else finds nothing."""
    if isinstance(value, bool):
        return None
    if text and isinstance(value, str) and _ID.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, int) and 1 <= value <= MAX_ID:
        return value
    return None


def to_id(errors: dict, name: str, value: Any, *, required: bool = False) -> int | None:
    return to_int(errors, name, value, 1, MAX_ID, required=required)


def to_date(errors: dict, name: str, value: Any, *, required: bool = False) -> date | None:
    """An ISO date (YYYY-MM-DD), None when blank (an error when required)."""
    if blank(value):
        if required:
            errors[name] = ["Required."]
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors[name] = ["A date such as 2026-01-31."]
    return None


def to_text(
    errors: dict, name: str, value: Any, limit: int, *, required: bool = False
) -> str | None:
    """Stripped text of at most `limit` characters; None when blank."""
    if value is not None and not isinstance(value, str):
        errors[name] = ["Must be text."]
        return None
    text = (value or "").strip()
    if not text:
        if required:
            errors[name] = ["Required."]
        return None
    if len(text) > limit:
        errors[name] = [f"At most {limit} characters."]
    return text


def to_choice(
    errors: dict, name: str, value: Any, choices: tuple[str, ...], *, required: bool = True
) -> str | None:
    if blank(value):
        if required:
            errors[name] = [f"One of: {', '.join(choices)}."]
        return None
    if not isinstance(value, str) or value.strip() not in choices:
        errors[name] = [f"One of: {', '.join(choices)}."]
        return None
    return value.strip()


def to_id_list(errors: dict, name: str, value: Any) -> list[int]:
    """A list of distinct ids, in the order given (a comma-separated string is accepted too)."""
    if blank(value):
        return []
    if isinstance(value, str):
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, (list, tuple)):
        errors[name] = ["Must be a list of ids."]
        return []
    out: list[int] = []
    for item in value:
        number = to_id({}, name, item)
        if number is None:
            errors[name] = ["Must be a list of ids."]
            return []
        if number in out:
            errors[name] = [f"{number} is listed twice."]
            return []
        out.append(number)
    return out
