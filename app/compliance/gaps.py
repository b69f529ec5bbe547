"""Overdue and expiring lists: who is late on which requirement (overdue or expired) and whose
compliance runs out within N days, a page at a time or every row for the CSV export; and the
manager's panel on the home page (their direct reports' counts and the first people late).

Reads the statuses through `app.compliance.reports` (see there), narrowed by a `Scope`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import CTE, Select, and_, case, func, select

from app.compliance.engine import viewer_scope
from app.compliance.models import CompetencyRequirement as R
from app.compliance.models import Curriculum
from app.compliance.reports import (
    TARGET_CODE,
    TARGET_TITLE,
    Counts,
    as_date,
    paged_rows,
    statuses_cte,
    today,
    totals,
)
from app.compliance.statuses import Scope
from app.extensions import db
from app.learning.models import Course
from app.people.models import Department, User
from app.platform.csv_export import to_csv
from app.platform.errors import Invalid
from app.platform.memo import READ_WORK_MEM, until_records_change
from app.platform.pagination import Page
from app.platform.sql import pg_setting
from app.platform.timefmt import iso_date

LATE_STATUSES = ("overdue", "expired")
EXPIRING_DAYS = (30, 60, 90)


# --- overdue and expiring lists --------------------------------------------------------------


@dataclass(frozen=True)
class GapRow:
    """One person's requirement that is late (overdue/expired) or about to expire."""

    user_id: int
    name: str
    email: str
    department: str | None
    requirement_id: int
    target_code: str
    target_title: str
    status: str
    due_date: date | None
    valid_until: date | None
    since: date | None  # overdue: the due date; expired: the expiry; expiring: the expiry
    days: int  # days late (overdue lists) or days left (expiring lists; < 0 in grace)


def _count_apart(st, condition) -> Select | None:
    """The count of a gap list from the status rows alone (every one has its person and its
    requirement) when they are the stored table; None (a window count) when they are derived,
    which a second statement would derive again."""
    if isinstance(st, CTE):
        return None
    return select(func.count()).select_from(st).where(condition)


def _gap_select(st, since):
    return (
        select(
            User.id.label("user_id"),
            User.name,
            User.email,
            Department.name.label("department"),
            st.c.requirement_id,
            TARGET_CODE.label("target_code"),
            TARGET_TITLE.label("target_title"),
            st.c.status,
            st.c.due_date,
            st.c.valid_until,
            since.label("since"),
        )
        .select_from(st)
        .join(User, User.id == st.c.user_id)
        .outerjoin(Department, Department.id == User.department_id)
        .join(R, R.id == st.c.requirement_id)
        .outerjoin(Course, Course.id == R.course_id)
        .outerjoin(Curriculum, Curriculum.id == R.curriculum_id)
    )


def _gap(r, since: date | None, days: int) -> GapRow:
    return GapRow(
        r.user_id,
        r.name,
        r.email,
        r.department,
        r.requirement_id,
        r.target_code,
        r.target_title,
        r.status,
        as_date(r.due_date),
        as_date(r.valid_until),
        since,
        days,
    )


def _late(on: date, scope: Scope) -> tuple[Select, Callable, Select | None]:
    st = statuses_cte(on, scope)
    since = case((st.c.status == "overdue", st.c.due_date), else_=st.c.valid_until)
    late = st.c.status.in_(LATE_STATUSES)
    query = (
        _gap_select(st, since)
        .where(late)
        .order_by(since, User.name, User.id, TARGET_TITLE, st.c.requirement_id)
    )

    def make(r) -> GapRow:
        day = as_date(r.since)
        return _gap(r, day, (on - day).days if day else 0)

    return query, make, _count_apart(st, late)


@until_records_change
def overdue(on: date, scope: Scope = Scope(), page: int = 1, per_page: int = 20) -> Page:
    """Requirements people are late on, most late first: overdue (past the due date, never done)
    and expired (the completion lapsed, grace included). One query per page."""
    query, make, count = _late(on, scope)
    return paged_rows(query, page, per_page, make, count)


def overdue_rows(on: date, scope: Scope = Scope()) -> list[GapRow]:
    """Every row of `overdue`, in its order (for the export)."""
    return _all_rows(*_late(on, scope)[:2])


def _all_rows(query: Select, make: Callable) -> list[GapRow]:
    with pg_setting("work_mem", READ_WORK_MEM):
        return [make(r) for r in db.session.execute(query)]


def check_days(value, default: int = 30) -> int:
    """The `days` of an expiring list: a whole number 1..365. Raises Invalid."""
    if value is None or value == "":
        return default
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 365:
        raise Invalid("days must be a whole number from 1 to 365.", {"days": ["1 to 365."]})
    return days


def _soon(on: date, days: int, scope: Scope) -> tuple[Select, Callable, Select | None]:
    st = statuses_cte(on, scope)
    soon = and_(
        st.c.ok == 1,
        st.c.waiver_id.is_(None),
        st.c.valid_until.is_not(None),
        st.c.valid_until <= on + timedelta(days=days),
    )
    query = (
        _gap_select(st, st.c.valid_until)
        .where(soon)
        .order_by(st.c.valid_until, User.name, User.id, TARGET_TITLE, st.c.requirement_id)
    )

    def make(r) -> GapRow:
        day = as_date(r.since)
        return _gap(r, day, (day - on).days if day else 0)

    return query, make, _count_apart(st, soon)


@until_records_change
def expiring(
    on: date, days: int = 30, scope: Scope = Scope(), page: int = 1, per_page: int = 20
) -> Page:
    """Compliant requirements whose validity ends within `days`, soonest first (people already
    in their grace period first, with negative days left). Waived ones are left out."""
    query, make, count = _soon(on, days, scope)
    return paged_rows(query, page, per_page, make, count)


def expiring_rows(on: date, days: int = 30, scope: Scope = Scope()) -> list[GapRow]:
    """Every row of `expiring`, in its order (for the export)."""
    return _all_rows(*_soon(on, days, scope)[:2])


GAP_CSV_HEADER = [
    "person",
    "email",
    "department",
    "requirement_code",
    "requirement_title",
    "status",
    "due_date",
    "valid_until",
]


def gaps_csv(rows: list[GapRow], days_column: str) -> str:
    """An overdue or expiring list as spreadsheet-safe CSV; `days_column` names the last
    column (days_late or days_left)."""
    return to_csv(
        [*GAP_CSV_HEADER, days_column],
        (
            [
                r.name,
                r.email,
                r.department or "",
                r.target_code,
                r.target_title,
                r.status,
                iso_date(r.due_date) or "",
                iso_date(r.valid_until) or "",
                r.days,
            ]
            for r in rows
        ),
    )


# --- the manager's panel ----------------------------------------------------------------------


@dataclass
class TeamCompliance:
    counts: Counts
    overdue: Page


def team_compliance(on: date, scope: Scope, limit: int = 10) -> TeamCompliance:
    """A scope at a glance: counts by status and the first people late (two queries)."""
    return TeamCompliance(totals(on, scope), overdue(on, scope, 1, limit))


def manager_panel(viewer: User, on: date | None = None) -> TeamCompliance | None:
    """The home dashboard's "Team compliance" for a manager's direct reports; None otherwise."""
    if not viewer.has_role("manager"):
        return None
    scope = viewer_scope(viewer, Scope(manager_id=viewer.id))
    return team_compliance(on or today(), scope)
