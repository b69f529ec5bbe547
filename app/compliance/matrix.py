"""The training matrix: people x the requirements that apply to them, a page of each at a time,
with each cell's status and dates; its filters (unit, status, name or email), paging, and the
whole matrix as CSV or XLSX.

Reads the statuses through `app.compliance.reports` (see there), narrowed by a `Scope`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import Select, func, or_, select

from app.compliance.models import CompetencyRequirement as R
from app.compliance.models import Curriculum
from app.compliance.reports import (
    STATUSES,
    TARGET_CODE,
    TARGET_TITLE,
    UnitFilters,
    as_date,
    paged_rows,
    statuses_cte,
    units_from,
)
from app.compliance.status_store import status_source
from app.compliance.statuses import Scope, applicable_pairs
from app.extensions import db
from app.learning.models import Course
from app.people.models import Department, JobRole, Team, User
from app.platform.csv_export import neutralise_text, to_csv
from app.platform.pagination import MAX_PER_PAGE, Page
from app.platform.sql import pg_setting

MATRIX_PER_PAGE = 50
MATRIX_COLUMNS = 30  # requirement columns per page of the matrix


def status_label(status: str) -> str:
    return status.replace("_", " ")


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
            **units_from(args),
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
        as_date(r.due_date),
        as_date(r.completed_on),
        as_date(r.valid_until),
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
    people = paged_rows(_people_select(on, _escaped(filters), scope), page, per_page, _person)
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
    # strings_to_formulas off: a cell starting with "=" stays text, never a formula; text cells
    # are neutralised too, so a copy out of the sheet (or a save as CSV) stays inert.
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
    sheet.write_row(0, 0, [neutralise_text(v) for v in header], bold)
    sheet.freeze_panes(1, 1)
    for i, (person, row) in enumerate(zip(matrix.people.items, rows, strict=True), start=1):
        sheet.write_row(i, 0, [neutralise_text(v) for v in row[: len(EXPORT_PEOPLE_HEADER)]])
        for j, column in enumerate(matrix.columns):
            cell = matrix.cell(person.user_id, column.requirement_id)
            col = len(EXPORT_PEOPLE_HEADER) + j
            style = formats[cell.status] if cell else None
            sheet.write_string(i, col, neutralise_text(row[col]), style)
    sheet.set_column(0, 0, 28)
    sheet.set_column(1, len(EXPORT_PEOPLE_HEADER) - 1, 20)
    if matrix.columns:
        sheet.set_column(len(EXPORT_PEOPLE_HEADER), len(header) - 1, 26)
    book.set_properties({"title": f"Training matrix as of {on.isoformat()}"})
    book.close()
    return buf.getvalue()
