"""Recertification: one rule for how long a completion keeps a person compliant.

- relative windows: valid for N months from the completion;
- calendar windows: every N months counted from a fixed month (e.g. every January), valid
  until the next such date;
- early renewal never shortens the next cycle: a renewal done inside the recertification
  window counts from the previous expiry (relative) or for the next calendar period;
- a grace period after expiry before the person counts as expired.

`RecertPolicy.valid_until` is the rule in Python (the reference the tests check against);
`valid_until_sql` is the same rule as a SQL expression for the set-based status query.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func

from app.platform.sql import add_days, add_months, forever, month_index, month_start

DUE_SOON_DAYS = 30


def add_months_to_date(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class RecertPolicy:
    months: int | None
    mode: str = "relative"
    anchor_month: int | None = None
    window_days: int = 60
    grace_days: int = 0

    def valid_until(self, completed_on: date, anchor: date | None = None) -> date | None:
        """The first day the completion no longer counts; None when it never expires."""
        if not self.months:
            return None
        if self.mode == "calendar":
            # Completions inside the window before a due date count for the period after it.
            t = completed_on + timedelta(days=self.window_days)
            index = t.year * 12 + t.month - 1
            offset = (index - ((self.anchor_month or 1) - 1)) % self.months
            nxt = index - offset + self.months
            return date(nxt // 12, nxt % 12 + 1, 1)
        base = anchor if anchor is not None and anchor > completed_on else completed_on
        return add_months_to_date(base, self.months)


def derive_status(
    on: date,
    *,
    done: bool,
    valid_until: date | None,
    grace_days: int,
    due_date: date | None,
    waived: bool,
) -> str:
    """The compliance status of one person for one requirement (the Python reference)."""
    if waived:
        return "waived"
    if done:
        if valid_until is None or valid_until > on + timedelta(days=DUE_SOON_DAYS):
            return "compliant"
        if on < valid_until + timedelta(days=grace_days):
            return "due_soon"
        return "expired"
    if due_date is None or due_date > on + timedelta(days=DUE_SOON_DAYS):
        return "not_started"
    if due_date >= on:
        return "due_soon"
    return "overdue"


def valid_until_sql(completed_on, anchor_date, months, mode, anchor_month, window_days):
    """SQL twin of RecertPolicy.valid_until; FOREVER stands for "never expires"."""
    later_index = month_index(add_days(completed_on, window_days))
    calendar_next = month_start(
        later_index - (later_index - (func.coalesce(anchor_month, 1) - 1)) % months + months
    )
    base = case((anchor_date > completed_on, anchor_date), else_=completed_on)
    return case(
        (months.is_(None), forever()),
        (months <= 0, forever()),
        (mode == "calendar", calendar_next),
        else_=add_months(base, months),
    )
