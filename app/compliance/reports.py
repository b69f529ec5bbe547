"""Compliance reports: summaries, the 12-month trend, overdue and expiring lists, the training
matrix and its CSV/XLSX export.

Every figure here reads status as the rows of `app.compliance.statuses.status_query` (through
`status_store.status_source`: its stored copy while that is current), as a subquery joined to
people and requirements, narrowed by a `Scope` before anything is aggregated; callers pass
`viewer_scope(viewer, ...)` so managers only ever see their direct reports.
"""

from __future__ import annotations

import calendar
import io
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import CTE, Select, and_, case, func, literal, or_, select, text, union_all

from app.compliance.engine import viewer_scope
from app.compliance.models import COMPLIANCE_STATUSES, ComplianceSnapshot, Curriculum
from app.compliance.models import CompetencyRequirement as R
from app.compliance.status_store import status_source, stored_statuses
from app.compliance.statuses import Scope, applicable_pairs, status_query
from app.extensions import db
from app.learning.models import Course
from app.people.models import Department, JobRole, Team, User
from app.platform import clock
from app.platform.csv_export import to_csv
from app.platform.errors import Invalid
from app.platform.memo import READ_WORK_MEM, until_records_change
from app.platform.pagination import MAX_PER_PAGE, Page
from app.platform.sql import pg_setting
from app.platform.timefmt import iso_date

BY = ("department", "job_role")
STATUSES = COMPLIANCE_STATUSES
LATE_STATUSES = ("overdue", "expired")
EXPIRING_DAYS = (30, 60, 90)
MAX_TREND_MONTHS = 12
MATRIX_PER_PAGE = 50
MATRIX_COLUMNS = 30  # requirement columns per page of the matrix
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


def status_label(status: str) -> str:
    return status.replace("_", " ")


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


def _paged_rows(
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
        _as_date(r.due_date),
        _as_date(r.valid_until),
        since,
        days,
    )


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])  # SQLite returns CASE dates as text


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
        day = _as_date(r.since)
        return _gap(r, day, (on - day).days if day else 0)

    return query, make, _count_apart(st, late)


@until_records_change
def overdue(on: date, scope: Scope = Scope(), page: int = 1, per_page: int = 20) -> Page:
    """Requirements people are late on, most late first: overdue (past the due date, never done)
    and expired (the completion lapsed, grace included). One query per page."""
    query, make, count = _late(on, scope)
    return _paged_rows(query, page, per_page, make, count)


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
        day = _as_date(r.since)
        return _gap(r, day, (day - on).days if day else 0)

    return query, make, _count_apart(st, soon)


@until_records_change
def expiring(
    on: date, days: int = 30, scope: Scope = Scope(), page: int = 1, per_page: int = 20
) -> Page:
    """Compliant requirements whose validity ends within `days`, soonest first (people already
    in their grace period first, with negative days left). Waived ones are left out."""
    query, make, count = _soon(on, days, scope)
    return _paged_rows(query, page, per_page, make, count)


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


# --- the training matrix ------------------------------------------------------------------------


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
        return cls(**_units_from(args))

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


def _units_from(args: Mapping) -> dict:
    return {
        name: _int_or_none(args.get(name)) for name in ("department_id", "team_id", "job_role_id")
    }


@dataclass(frozen=True)
class MatrixFilters(UnitFilters):
    """What the matrix shows: people of a department/team/job role, with a cell in `status`,
    whose name or email contains `q`. Unknown values are ignored."""

    status: str | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping) -> MatrixFilters:
        status = args.get("status") or None
        return cls(
            **_units_from(args),
            status=status if status in STATUSES else None,
            q=(args.get("q") or "").strip()[:100],
        )


@dataclass(frozen=True)
class MatrixPerson:
    user_id: int
    name: str
    email: str
    department: str | None
    team: str | None
    job_role: str | None


@dataclass(frozen=True)
class MatrixColumn:
    requirement_id: int
    target_code: str
    target_title: str
    scope_name: str

    @property
    def heading(self) -> str:
        """Column title in the exports; the scope tells apart two requirements of one course."""
        return f"{self.target_title} ({self.target_code}) for {self.scope_name}"


@dataclass(frozen=True)
class MatrixCell:
    status: str
    due_date: date | None
    completed_on: date | None
    valid_until: date | None
    waiver_id: int | None
    label: str = field(init=False, compare=False)
    note: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        # Worked out once: a page shows thousands of cells, and exports read them again.
        object.__setattr__(self, "label", status_label(self.status))
        object.__setattr__(self, "note", self._note())

    def _note(self) -> str:
        """The date that matters for this status, in words."""
        if self.status == "waived":
            return "waiver"
        if self.status == "expired":
            return f"expired {self.valid_until}" if self.valid_until else ""
        if self.completed_on is not None:  # done (compliant or due for renewal)
            if self.valid_until is not None:
                return f"until {self.valid_until}"
            return f"done {self.completed_on}"
        return f"due {self.due_date}" if self.due_date else ""

    @property
    def text(self) -> str:
        """Status word and date, as the exports write it."""
        return f"{self.label} ({self.note})" if self.note else self.label


@dataclass
class Matrix:
    people: Page  # of MatrixPerson
    columns: list[MatrixColumn]  # the columns shown (one page of them)
    cells: dict[tuple[int, int], MatrixCell]
    filters: MatrixFilters
    column_page: Page | None = None  # of MatrixColumn: items are `columns`

    def __post_init__(self) -> None:
        if self.column_page is None:
            n = len(self.columns)
            self.column_page = Page(items=self.columns, total=n, page=1, per_page=max(1, n))

    def cell(self, user_id: int, requirement_id: int) -> MatrixCell | None:
        return self.cells.get((user_id, requirement_id))

    def rows(self) -> list[tuple[MatrixPerson, list[MatrixCell | None]]]:
        """Each person with their cells in column order (None: not applicable to them)."""
        ids = [c.requirement_id for c in self.columns]
        get = self.cells.get
        return [(p, [get((p.user_id, i)) for i in ids]) for p in self.people.items]

    @property
    def first_column(self) -> int:
        """1-based position of the first column shown among all of the page's columns."""
        cols = self.column_page
        return (cols.page - 1) * cols.per_page + 1 if self.columns else 0

    def link_args(self, page: int | None = None, col_page: int | None = None) -> dict:
        """Query arguments for a link to another page of people (`page`) or of columns
        (`col_page`), keeping the filters and page sizes. Another page of people starts at
        its first columns: the columns are that page's people's requirements."""
        out = self.filters.args()
        if self.people.per_page != MATRIX_PER_PAGE:
            out["per_page"] = self.people.per_page
        if self.column_page.per_page != MATRIX_COLUMNS:
            out["col_per_page"] = self.column_page.per_page
        page = page or self.people.page
        col_page = 1 if page != self.people.page else col_page or self.column_page.page
        if page > 1:
            out["page"] = page
        if col_page > 1:
            out["col_page"] = col_page
        return out


def _people_select(on: date, filters: MatrixFilters, scope: Scope) -> Select:
    query = (
        select(
            User.id.label("user_id"),
            User.name,
            User.email,
            Department.name.label("department"),
            Team.name.label("team"),
            JobRole.name.label("job_role"),
        )
        .outerjoin(Department, Department.id == User.department_id)
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(JobRole, JobRole.id == User.job_role_id)
        .where(*scope.user_filters())
    )
    if filters.q:
        like = f"%{filters.q.lower()}%"
        query = query.where(
            or_(
                func.lower(User.name).like(like, escape="\\"),
                func.lower(User.email).like(like, escape="\\"),
            )
        )
    if filters.status:
        st = statuses_cte(on, scope, "st_filter")
        query = query.where(User.id.in_(select(st.c.user_id).where(st.c.status == filters.status)))
    return query.order_by(User.name, User.id)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


SCOPE_NAME = func.coalesce(JobRole.name, Department.name, Team.name)


def _with_targets(query: Select) -> Select:
    """Join a query on requirements to each one's course/program and scope names."""
    return (
        query.outerjoin(Course, Course.id == R.course_id)
        .outerjoin(Curriculum, Curriculum.id == R.curriculum_id)
        .outerjoin(JobRole, JobRole.id == R.job_role_id)
        .outerjoin(Department, Department.id == R.department_id)
        .outerjoin(Team, Team.id == R.team_id)
    )


def _column_order(column: MatrixColumn) -> tuple:
    return (column.target_title.lower(), column.target_code, column.requirement_id)


def _cell(r) -> MatrixCell:
    return MatrixCell(
        r.status,
        _as_date(r.due_date),
        _as_date(r.completed_on),
        _as_date(r.valid_until),
        r.waiver_id,
    )


def _cells(on: date, scope: Scope, people=None):
    """(columns sorted by target title, cells) of the status rows of `scope` (and `people`)."""
    st = status_source(on, scope).subquery("st")
    query = _with_targets(
        select(
            st.c.user_id,
            st.c.requirement_id,
            st.c.status,
            st.c.due_date,
            st.c.completed_on,
            st.c.valid_until,
            st.c.waiver_id,
            TARGET_CODE.label("target_code"),
            TARGET_TITLE.label("target_title"),
            SCOPE_NAME.label("scope_name"),
        )
        .select_from(st)
        .join(R, R.id == st.c.requirement_id)
    )
    if people is not None:
        query = query.where(st.c.user_id.in_(people))
    columns: dict[int, MatrixColumn] = {}
    cells: dict[tuple[int, int], MatrixCell] = {}
    for r in db.session.execute(query):
        if r.requirement_id not in columns:
            columns[r.requirement_id] = MatrixColumn(
                r.requirement_id, r.target_code, r.target_title, r.scope_name or ""
            )
        cells[(r.user_id, r.requirement_id)] = _cell(r)
    return sorted(columns.values(), key=_column_order), cells


def _page_columns(on: date, scope: Scope) -> list[MatrixColumn]:
    """Every requirement in force for the scope's people (no status derived), by title."""
    pairs = applicable_pairs(on, scope)
    query = _with_targets(
        select(
            R.id.label("requirement_id"),
            TARGET_CODE.label("target_code"),
            TARGET_TITLE.label("target_title"),
            SCOPE_NAME.label("scope_name"),
        )
        .select_from(R)
        .where(R.id.in_(select(pairs.c.requirement_id)))
    )
    columns = [
        MatrixColumn(r.requirement_id, r.target_code, r.target_title, r.scope_name or "")
        for r in db.session.execute(query)
    ]
    return sorted(columns, key=_column_order)


def _page_cells(on: date, scope: Scope) -> dict[tuple[int, int], MatrixCell]:
    """Statuses of the scope's (person, requirement) pairs: one page of people and columns."""
    st = status_source(on, scope).subquery("st")
    query = select(
        st.c.user_id,
        st.c.requirement_id,
        st.c.status,
        st.c.due_date,
        st.c.completed_on,
        st.c.valid_until,
        st.c.waiver_id,
    )
    with _without_nested_loops():
        rows = db.session.execute(query).all()
    return {(r.user_id, r.requirement_id): _cell(r) for r in rows}


def _without_nested_loops():
    """Plan the statement inside without nested-loop joins (PostgreSQL only).

    For a page of people PostgreSQL estimates their completed enrollments at a few rows (it
    multiplies the selectivities of `status = 'completed'` and `completed_at IS NOT NULL`, which
    go together) and loops over every requirement's slots for each: 620,000 comparisons and
    ~300 ms for 50 people x 20 requirements. Hash joins take ~7 ms.
    """
    return pg_setting("enable_nestloop", "off")


def _person(r) -> MatrixPerson:
    return MatrixPerson(r.user_id, r.name, r.email, r.department, r.team, r.job_role)


def training_matrix(
    on: date,
    filters: MatrixFilters = MatrixFilters(),
    scope: Scope = Scope(),
    page: int = 1,
    per_page: int = MATRIX_PER_PAGE,
    col_page: int = 1,
    col_per_page: int = MATRIX_COLUMNS,
) -> Matrix:
    """One page of people (sorted by name) x one page of the requirements applicable to them
    (sorted by target title), with each cell's status and dates. Three queries whatever the
    sizes: the people, their requirements, then statuses for those people and columns only.

    `scope` is the viewer's (see viewer_scope); the filters narrow it further. With a status
    filter, people with at least one requirement in that status are listed, with all their cells.
    A column page past the last shows the last. Not memoised here: the page keeps what it
    renders from it until the records change (app/compliance/web/compliance/routes.py).
    """
    per_page = max(1, min(MAX_PER_PAGE, per_page))
    col_per_page = max(1, min(MAX_PER_PAGE, col_per_page))
    scope = filters.scope(scope)
    people = _paged_rows(_people_select(on, _escaped(filters), scope), page, per_page, _person)
    if not people.items:
        return Matrix(people, [], {}, filters, Page([], 0, 1, col_per_page))
    # The page's people already satisfy the viewer's scope and the filters; repeating the
    # department/team/role there only makes PostgreSQL expect ~2 people instead of 50.
    mine = Scope(
        user_ids=[p.user_id for p in people.items],
        requirement_ids=scope.requirement_ids,
        course_id=scope.course_id,
    )
    everything = _page_columns(on, mine)
    last = max(1, -(-len(everything) // col_per_page))
    col_page = max(1, min(col_page, last))
    start = (col_page - 1) * col_per_page
    columns = everything[start : start + col_per_page]
    cells = {}
    if columns:
        shown = replace(mine, requirement_ids=[c.requirement_id for c in columns])
        cells = _page_cells(on, shown)
    column_page = Page(columns, len(everything), col_page, col_per_page)
    return Matrix(people, columns, cells, filters, column_page)


def _escaped(filters: MatrixFilters) -> MatrixFilters:
    return replace(filters, q=_escape_like(filters.q)) if filters.q else filters


def matrix_all(on: date, filters: MatrixFilters, scope: Scope) -> Matrix:
    """The whole matrix (every page of people and of columns) for the exports: one query for
    people, one for cells.

    A status filter is applied to the cells fetched anyway rather than with a second status
    query inside the first (which would also give two different CTEs the same name).
    """
    scope = filters.scope(scope)
    people_q = _people_select(on, _escaped(replace(filters, status=None)), scope)
    people = [_person(r) for r in db.session.execute(people_q).all()]
    columns, cells = [], {}
    if people:
        ids = people_q.with_only_columns(User.id).order_by(None) if filters.q else None
        columns, cells = _cells(on, scope, ids)
    if filters.status:
        keep = {user for (user, _), cell in cells.items() if cell.status == filters.status}
        people = [p for p in people if p.user_id in keep]
        cells = {key: cell for key, cell in cells.items() if key[0] in keep}
        used = {requirement for _, requirement in cells}
        columns = [c for c in columns if c.requirement_id in used]
    page = Page(items=people, total=len(people), page=1, per_page=max(1, len(people)))
    return Matrix(page, columns, cells, filters)


EXPORT_PEOPLE_HEADER = ["Person", "Email", "Department", "Team", "Job role"]


def _export_table(matrix: Matrix) -> tuple[list[str], list[list[str]]]:
    header = EXPORT_PEOPLE_HEADER + [c.heading for c in matrix.columns]
    rows = []
    for p in matrix.people.items:
        row = [p.name, p.email, p.department or "", p.team or "", p.job_role or ""]
        for c in matrix.columns:
            cell = matrix.cell(p.user_id, c.requirement_id)
            row.append(cell.text if cell else "n/a")
        rows.append(row)
    return header, rows


def matrix_csv(matrix: Matrix) -> str:
    """The matrix as CSV (formula-looking cells neutralised): a header row, one row a person."""
    header, rows = _export_table(matrix)
    return to_csv(header, rows)


def matrix_xlsx(matrix: Matrix, on: date) -> bytes:
    """The matrix as an XLSX workbook: a frozen header row and name column, status text in cells."""
    import xlsxwriter

    header, rows = _export_table(matrix)
    buf = io.BytesIO()
    # strings_to_formulas off: a cell starting with "=" stays text, never a formula.
    book = xlsxwriter.Workbook(
        buf,
        {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = book.add_worksheet("Training matrix")
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    formats = {
        s: book.add_format({"bg_color": colour})
        for s, colour in (
            ("compliant", "#E3F5EC"),
            ("waived", "#EEF1F5"),
            ("due_soon", "#FFF4DC"),
            ("not_started", "#FFFFFF"),
            ("overdue", "#FDECEA"),
            ("expired", "#FDECEA"),
        )
    }
    sheet.write_row(0, 0, header, bold)
    sheet.freeze_panes(1, 1)
    for i, (person, row) in enumerate(zip(matrix.people.items, rows, strict=True), start=1):
        sheet.write_row(i, 0, row[: len(EXPORT_PEOPLE_HEADER)])
        for j, column in enumerate(matrix.columns):
            cell = matrix.cell(person.user_id, column.requirement_id)
            col = len(EXPORT_PEOPLE_HEADER) + j
            sheet.write_string(i, col, row[col], formats[cell.status] if cell else None)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, len(EXPORT_PEOPLE_HEADER) - 1, 20)
    if matrix.columns:
        sheet.set_column(len(EXPORT_PEOPLE_HEADER), len(header) - 1, 26)
    book.set_properties({"title": f"Training matrix as of {on.isoformat()}"})
    book.close()
    return buf.getvalue()


# --- filter choices ----------------------------------------------------------------------------


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
