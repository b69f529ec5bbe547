"""Compliance reports: summaries by department and job role, totals, the 12-month trend, and
what the lists and the matrix share (the statuses to filter, paging, unit filters and their
choices).

Every figure here reads status as the rows of `app.compliance.statuses.status_query` (through
`status_store.status_source`: its stored copy while that is current), as a subquery joined to
people and requirements, narrowed by a `Scope` before anything is aggregated; callers pass
`viewer_scope(viewer, ...)` so managers only ever see their direct reports.

The overdue and expiring lists (and the manager's panel) are in `app.compliance.gaps`, the
training matrix and its exports in `app.compliance.matrix`; both read through this module.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date

from flask import current_app
from sqlalchemy import Select, func, literal, select, text, union_all

from app.compliance.models import COMPLIANCE_STATUSES, ComplianceSnapshot, Curriculum
from app.compliance.status_store import status_source, stored_statuses
from app.compliance.statuses import Scope, status_query
from app.extensions import db
from app.learning.models import Course
from app.people.models import Department, JobRole, Team
from app.platform import clock
from app.platform.errors import Invalid
from app.platform.memo import until_records_change
from app.platform.pagination import Page

BY = ("department", "job_role")
STATUSES = COMPLIANCE_STATUSES
MAX_TREND_MONTHS = 12
TREND_CACHE_SECONDS = 600

TARGET_TITLE = func.coalesce(Course.title, Curriculum.title)
TARGET_CODE = func.coalesce(Course.code, Curriculum.code)


def today() -> date:
    return clock.today()


def percent(ok: int, applicable: int) -> int | None:
    """Whole percent compliant, rounded down (100 only when everyone is); None with nothing due."""
    return ok * 100 // applicable if applicable else None


def level(pct: int | None) -> str:
    """A colour band for charts: good (95+), fair (80+), poor, or none (nothing due)."""
    if pct is None:
        return "none"
    return "good" if pct >= 95 else "fair" if pct >= 80 else "poor"


def statuses_cte(on: date, scope: Scope, name: str = "st"):
    """The statuses to filter: the stored rows as a plain subquery when they are current (the
    filters then reach the table and its statistics), else the status query as a MATERIALIZED
    CTE, computed once for the scope.

    Filters on derived columns (status, ok, valid_until) would otherwise be pushed into the
    query's aggregates, where PostgreSQL misjudges them as matching one row and picks nested
    loops that take seconds instead of milliseconds on a few thousand people.
    """
    stored = stored_statuses(on, scope)
    if stored is not None:
        return stored.subquery(name)
    return status_query(on, scope).cte(name).prefix_with("MATERIALIZED")


# --- summary ----------------------------------------------------------------------------------


@dataclass
class Counts:
    """Applicable (person, requirement) pairs, how many count as compliant, and each status."""

    applicable: int = 0
    ok: int = 0
    by_status: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))

    @property
    def percent(self) -> int | None:
        return percent(self.ok, self.applicable)

    @property
    def level(self) -> str:
        return level(self.percent)

    def add(self, other: Counts) -> None:
        self.applicable += other.applicable
        self.ok += other.ok
        for status, n in other.by_status.items():
            self.by_status[status] += n


@dataclass
class UnitRow(Counts):
    """One department or job role (unit_id None: people without one)."""

    unit_id: int | None = None
    name: str = ""


def _counted(st) -> list:
    return [
        func.count().label("applicable"),
        func.coalesce(func.sum(st.c.ok), 0).label("ok"),
        *(func.count().filter(st.c.status == s).label(s) for s in STATUSES),
    ]


def _counts(row) -> Counts:
    return Counts(
        applicable=int(row.applicable),
        ok=int(row.ok or 0),
        by_status={s: int(getattr(row, s) or 0) for s in STATUSES},
    )


@until_records_change
def summaries(on: date, scope: Scope = Scope()) -> dict[str, list[UnitRow]]:
    """Compliance per department and per job role, both from one grouped query.

    The query counts per (department, job role) pair; the two roll-ups are summed from those
    few rows. Units are sorted by name, "No department"/"No job role" last.
    """
    st = status_source(on, scope).subquery("st")
    # One count per (department, job role, status), named afterwards: joining users,
    # departments and job roles to every pair, and eight filtered aggregates per row, cost
    # a third of the statement.
    counted = (
        select(st.c.department_id, st.c.job_role_id, st.c.status, st.c.ok, func.count().label("n"))
        .group_by(st.c.department_id, st.c.job_role_id, st.c.status, st.c.ok)
        .subquery("counted")
    )
    rows = db.session.execute(
        select(
            counted,
            Department.name.label("department"),
            JobRole.name.label("job_role"),
        )
        .outerjoin(Department, Department.id == counted.c.department_id)
        .outerjoin(JobRole, JobRole.id == counted.c.job_role_id)
    ).all()
    out: dict[str, list[UnitRow]] = {}
    for by, id_col, name_col, none_name in (
        ("department", "department_id", "department", "No department"),
        ("job_role", "job_role_id", "job_role", "No job role"),
    ):
        units: dict[int | None, UnitRow] = {}
        for r in rows:
            key = getattr(r, id_col)
            unit = units.get(key)
            if unit is None:
                unit = units[key] = UnitRow(unit_id=key, name=getattr(r, name_col) or none_name)
            unit.applicable += r.n
            unit.ok += r.n if r.ok else 0
            unit.by_status[r.status] += r.n
        out[by] = sorted(units.values(), key=lambda u: (u.unit_id is None, u.name.lower()))
    return out


def summary(on: date, by: str = "department", scope: Scope = Scope()) -> list[UnitRow]:
    """Compliance per department or per job role (one grouped query). Raises Invalid for `by`."""
    if by not in BY:
        raise Invalid("Unknown grouping.", {"by": [f"One of: {', '.join(BY)}."]})
    return summaries(on, scope)[by]


def overall(rows: Iterable[Counts]) -> Counts:
    """The sum of summary rows (each pair belongs to exactly one unit)."""
    total = Counts()
    for row in rows:
        total.add(row)
    return total


@until_records_change
def totals(on: date, scope: Scope = Scope()) -> Counts:
    """Counts for the whole scope in one query."""
    st = status_source(on, scope).subquery("st")
    return _counts(db.session.execute(select(*_counted(st)).select_from(st)).one())


# --- trend ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendPoint:
    """Compliance at one month's end (the current month: as of today)."""

    month: date  # first day of the month
    as_of: date
    applicable: int
    compliant: int
    source: str  # "snapshot" or "computed"

    @property
    def percent(self) -> int | None:
        return percent(self.compliant, self.applicable)

    @property
    def level(self) -> str:
        return level(self.percent)


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _months_back(day: date, n: int) -> date:
    index = day.year * 12 + day.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def _snapshot_unit(scope: Scope) -> tuple[int | None, int | None] | None:
    """(department_id, job_role_id) of the snapshot rows that match the scope, or None when
    snapshots do not cover it (a team, a manager's reports, a list of people...)."""
    others = [
        f.name
        for f in fields(scope)
        if f.name not in ("department_id", "job_role_id") and getattr(scope, f.name) is not None
    ]
    if others or (scope.department_id is not None and scope.job_role_id is not None):
        return None
    return scope.department_id, scope.job_role_id


def _trend_cache() -> dict:
    return current_app.extensions.setdefault("compliance_trend_cache", {})


def _computed(as_of: date, scope: Scope, on: date) -> tuple[int, int]:
    """(applicable, compliant) as of a past date, from the status query (cached per process).

    Uses today's organisation (who is active, in which unit, which requirements) with the
    training records as they were dated, so it approximates history where no snapshot exists.
    """
    cache = _trend_cache()
    key = (as_of, on, repr(scope))
    hit = cache.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < TREND_CACHE_SECONDS:
        return hit[1]
    counts = totals(as_of, scope)
    if len(cache) > 512:
        cache.clear()
    cache[key] = (now, (counts.applicable, counts.ok))
    return counts.applicable, counts.ok


def trend(
    on: date | None = None,
    months: int = MAX_TREND_MONTHS,
    scope: Scope = Scope(),
    current: Counts | None = None,
) -> list[TrendPoint]:
    """Compliance at each of the last `months` (at most 12) month ends, oldest first.

    Each month takes the last nightly snapshot taken in it (whole organisation, one department
    or one job role); a past month without one shows as missing. Scopes snapshots do not cover
    (a manager's reports) are computed on the fly with the status query as of each month's end,
    using today's organisation, each cached for ten minutes in this process. `current`, the
    scope's counts as of `on` when the caller already has them, stands in for this month when
    no snapshot was taken yet.
    """
    on = on or today()
    months = max(1, min(MAX_TREND_MONTHS, months))
    firsts = [_months_back(on, n) for n in range(months - 1, -1, -1)]
    ends = [min(_month_end(first), on) for first in firsts]
    taken: dict[date, ComplianceSnapshot] = {}
    unit = _snapshot_unit(scope)
    if unit is not None:
        dept, role = unit
        snaps = db.session.scalars(
            select(ComplianceSnapshot)
            .where(
                ComplianceSnapshot.taken_on >= firsts[0],
                ComplianceSnapshot.taken_on <= on,
                ComplianceSnapshot.department_id.is_(None)
                if dept is None
                else ComplianceSnapshot.department_id == dept,
                ComplianceSnapshot.job_role_id.is_(None)
                if role is None
                else ComplianceSnapshot.job_role_id == role,
            )
            .order_by(ComplianceSnapshot.taken_on)
        ).all()
        for snap in snaps:  # ordered: the last one of each month wins
            taken[snap.taken_on.replace(day=1)] = snap
    points = []
    for first, end in zip(firsts, ends, strict=True):
        snap = taken.get(first)
        if snap is not None:
            points.append(
                TrendPoint(first, snap.taken_on, snap.applicable, snap.compliant, "snapshot")
            )
        elif end == on and current is not None:
            points.append(TrendPoint(first, on, current.applicable, current.ok, "computed"))
        elif unit is not None and end != on:
            # Snapshot-covered scopes never recompute the past on a page view: over a whole
            # organisation that is a full status computation per month. The nightly run fills
            # the months in; `flask compliance-run --backfill-months 12` fills a new install.
            points.append(TrendPoint(first, end, 0, 0, "missing"))
        else:
            applicable, compliant = _computed(end, scope, on)
            points.append(TrendPoint(first, end, applicable, compliant, "computed"))
    return points


# --- paging and dates (the lists and the matrix) -----------------------------------------------


def paged_rows(
    query: Select, page: int, per_page: int, make: Callable, count: Select | None = None
) -> Page:
    """One page of a multi-column select and its total: a window count in the same round trip,
    or `count` when given (cheaper when the rows come from a table: the window would have to
    join and number every matching row to count them)."""
    if count is not None:
        offset = (page - 1) * per_page
        rows = db.session.execute(query.limit(per_page).offset(offset)).all()
        short = len(rows) < per_page and (rows or page == 1)  # the last page: nothing to count
        total = offset + len(rows) if short else db.session.scalar(count) or 0
        return Page(items=[make(r) for r in rows], total=total, page=page, per_page=per_page)
    rows = db.session.execute(
        query.add_columns(func.count().over().label("_total"))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    if rows:
        return Page(
            items=[make(r) for r in rows], total=rows[0]._total, page=page, per_page=per_page
        )
    total = 0
    if page > 1:
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return Page(items=[], total=total or 0, page=page, per_page=per_page)


def as_date(value) -> date | None:
    """A date column of a row as a date (None stays None)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite returns CASE dates as text


# --- unit filters and their choices (the lists and the matrix) ---------------------------------


def _int_or_none(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= 2**31 - 1 else None


@dataclass(frozen=True)
class UnitFilters:
    """People of a department, team and/or job role (the lists' filters). Unknown values are
    ignored."""

    department_id: int | None = None
    team_id: int | None = None
    job_role_id: int | None = None

    @classmethod
    def from_args(cls, args: Mapping) -> UnitFilters:
        return cls(**units_from(args))

    def scope(self, base: Scope = Scope()) -> Scope:
        return replace(
            base,
            department_id=self.department_id,
            team_id=self.team_id,
            job_role_id=self.job_role_id,
        )

    def args(self) -> dict:
        """The filters as query arguments (for links that keep them)."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


def units_from(args: Mapping) -> dict:
    """department_id, team_id and job_role_id from query arguments (None when not an id)."""
    return {
        name: _int_or_none(args.get(name)) for name in ("department_id", "team_id", "job_role_id")
    }


@dataclass(frozen=True)
class FilterChoices:
    departments: list[tuple[int, str]]
    teams: list[tuple[int, str]]
    job_roles: list[tuple[int, str]]


def filter_choices() -> FilterChoices:
    """Departments, teams (with their department) and job roles for the matrix filters, in one
    query (the page renders its form again whenever the audit trail moves)."""
    kind = literal(0).label("kind")
    parent = literal("").label("parent")
    query = union_all(
        select(kind, Department.id.label("id"), Department.name.label("name"), parent),
        select(literal(1), Team.id, Team.name, Department.name).join(
            Department, Department.id == Team.department_id
        ),
        select(literal(2), JobRole.id, JobRole.name, literal("")),
    ).order_by(text("kind"), text("parent"), text("name"))
    out: tuple[list, list, list] = ([], [], [])
    for k, i, name, dept in db.session.execute(query):
        out[k].append((i, f"{dept} · {name}" if k == 1 else name))
    return FilterChoices(*out)
