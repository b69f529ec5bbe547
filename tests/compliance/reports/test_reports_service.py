"""Compliance report services: summary, trend, overdue/expiring lists and the training matrix."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.audit.chain import seal_pending
from app.compliance import gaps, reports, status_store
from app.compliance import matrix as matrices
from app.compliance.engine import viewer_scope
from app.compliance.models import ComplianceSnapshot
from app.compliance.snapshots import take_snapshot
from app.compliance.statuses import Scope
from app.extensions import db
from app.platform.errors import Invalid
from tests.people.factories import UserFactory


def by_name(rows):
    return {r.name: r for r in rows}


def test_summary_by_department_counts_every_status(org):
    rows = by_name(reports.summary(org.today, "department"))
    assert list(rows) == ["Production", "Quality"]
    production, quality = rows["Production"], rows["Quality"]
    assert (production.unit_id, production.applicable, production.ok, production.percent) == (
        org.production.id,
        4,
        3,
        75,
    )
    assert production.by_status == {
        "compliant": 2,
        "due_soon": 1,
        "overdue": 1,
        "expired": 0,
        "not_started": 0,
        "waived": 0,
    }
    assert (quality.applicable, quality.ok, quality.percent) == (7, 2, 28)
    assert quality.by_status == {
        "compliant": 1,
        "due_soon": 2,
        "overdue": 1,
        "expired": 1,
        "not_started": 1,
        "waived": 1,
    }


def test_summary_by_job_role_and_overall(org):
    rows = reports.summary(org.today, "job_role")
    assert [(r.name, r.applicable, r.ok, r.percent) for r in rows] == [
        ("Analyst", 4, 2, 50),
        ("Operator", 7, 3, 42),
    ]
    total = reports.overall(rows)
    assert (total.applicable, total.ok, total.percent) == (11, 5, 45)
    assert reports.totals(org.today).by_status == total.by_status


def test_summary_is_one_query_and_rejects_unknown_grouping(org, count_queries):
    with count_queries() as statements:
        reports.summaries(org.today)
    assert len(statements) == 1
    with pytest.raises(Invalid) as exc:
        reports.summary(org.today, "site")
    assert "by" in exc.value.errors


def test_manager_scope_counts_only_direct_reports(org):
    scope = viewer_scope(org.mia)
    rows = reports.summary(org.today, "department", scope)
    assert [(r.name, r.applicable, r.ok) for r in rows] == [("Production", 4, 3)]
    # HR is not narrowed.
    assert viewer_scope(org.hr) == Scope()


def test_overdue_lists_overdue_and_expired_most_late_first(org, count_queries):
    with count_queries() as statements:
        page = gaps.overdue(org.today)
    # Statuses are computed once, then filtered (a plan fence against nested loops on PG).
    assert len(statements) == 1 and "AS MATERIALIZED" in statements[0]
    got = [(r.name, r.target_code, r.status, r.days) for r in page.items]
    assert got == [
        ("Carol Clark", "GMP-1", "overdue", 30),
        ("Dave Dunn", "GMP-1", "expired", 30),
        ("Alice Adams", "SAF-1", "overdue", 15),
    ]
    assert page.items[1].since == org.dave_valid_until
    assert page.total == 3

    second = gaps.overdue(org.today, page=2, per_page=2)
    assert [r.name for r in second.items] == ["Alice Adams"]
    assert (second.total, second.pages) == (3, 2)


def test_expiring_lists_valid_completions_ending_within_days(org):
    within_30 = gaps.expiring(org.today, 30)
    assert [(r.name, r.target_code, r.valid_until) for r in within_30.items] == [
        ("Bob Brown", "GMP-1", org.bob_valid_until)
    ]
    assert within_30.items[0].days == (org.bob_valid_until - org.today).days
    assert gaps.expiring(org.today, 10).total == 0
    # Alice's GMP runs until about 11 months from now.
    assert [r.name for r in gaps.expiring(org.today, 365).items] == [
        "Bob Brown",
        "Alice Adams",
    ]


def test_late_and_expiring_lists_read_from_the_stored_statuses_alike(app, org, count_queries):
    def pages(read):
        return [
            (p.total, [(r.name, r.target_code, r.status, r.since, r.days) for r in p.items])
            for p in (read(page) for page in (1, 2, 3))
        ]

    lists = {
        "overdue": lambda page: gaps.overdue(org.today, page=page, per_page=2),
        "expiring": lambda page: gaps.expiring(org.today, 365, page=page, per_page=1),
        "overdue in Quality": lambda page: gaps.overdue(
            org.today, Scope(department_id=org.quality.id), page=page, per_page=1
        ),
    }
    derived = {name: pages(read) for name, read in lists.items()}
    app.config["COMPLIANCE_STATUS_STORE"] = True
    seal_pending()
    status_store.rebuild(org.today)
    with count_queries() as statements:
        stored = {name: pages(read) for name, read in lists.items()}
    assert stored == derived
    assert derived["overdue"][0][0] == 3 and derived["overdue"][2] == (3, [])  # past the end
    assert derived["overdue in Quality"][0][0] == 2
    assert not any("training_enrollments" in s or "MATERIALIZED" in s for s in statements)


@pytest.mark.parametrize("value", ["0", "366", "abc", "-5"])
def test_expiring_days_must_be_1_to_365(value):
    with pytest.raises(Invalid):
        gaps.check_days(value)


def test_trend_reads_the_last_snapshot_of_each_month_and_computes_the_rest(org, count_queries):
    on = org.today
    first_of_month = on.replace(day=1)
    two_months_ago = (first_of_month - timedelta(days=40)).replace(day=1)
    # Two snapshots in one month: the later one counts.
    db.session.add_all(
        [
            ComplianceSnapshot(taken_on=two_months_ago, applicable=10, compliant=2),
            ComplianceSnapshot(
                taken_on=two_months_ago + timedelta(days=5), applicable=10, compliant=9
            ),
            ComplianceSnapshot(
                taken_on=two_months_ago, department_id=org.quality.id, applicable=4, compliant=1
            ),
        ]
    )
    db.session.commit()

    with count_queries() as statements:
        points = reports.trend(on)
    assert len(points) == 12
    assert len(statements) <= 2  # the snapshots, then this month's counts
    assert points[-1].month == first_of_month and points[-1].as_of == on
    assert (points[-1].applicable, points[-1].compliant, points[-1].source) == (11, 5, "computed")
    snap = next(p for p in points if p.month == two_months_ago)
    assert (snap.percent, snap.source, snap.as_of) == (
        90,
        "snapshot",
        two_months_ago + timedelta(days=5),
    )
    assert [p.month for p in points] == sorted(p.month for p in points)
    # Past months without a snapshot are shown as missing, never recomputed on a page view.
    assert {p.source for p in points[:-1] if p.month != two_months_ago} == {"missing"}
    assert points[0].percent is None

    # Computed months are cached in this process: a second call only reads the snapshots.
    with count_queries() as statements:
        reports.trend(on)
    assert len(statements) == 1

    quality = reports.trend(on, scope=Scope(department_id=org.quality.id))
    assert next(p for p in quality if p.month == two_months_ago).percent == 25


def test_trend_takes_the_nightly_snapshot_for_the_current_month(org):
    take_snapshot(org.today)
    points = reports.trend(org.today, months=3)
    assert len(points) == 3
    assert (points[-1].source, points[-1].applicable, points[-1].compliant) == ("snapshot", 11, 5)


def test_matrix_people_by_name_columns_by_title_and_cells(org):
    matrix = matrices.training_matrix(
        org.today, matrices.MatrixFilters(department_id=org.quality.id)
    )
    assert [p.name for p in matrix.people.items] == ["Carol Clark", "Dave Dunn", "Erin Evans"]
    assert [(c.target_title, c.scope_name) for c in matrix.columns] == [
        ("GMP basics", "Operator"),
        ("GMP basics", "Analyst"),
        ("Safety induction", "Operator"),
        ("SOP 7 cleaning", "Quality"),
    ]
    carol_gmp = matrix.cell(org.carol.id, org.req_gmp_analyst.id)
    assert (carol_gmp.status, carol_gmp.text) == (
        "overdue",
        f"overdue (due {org.today - timedelta(days=30)})",
    )
    assert matrix.cell(org.carol.id, org.req_sop.id).text == "waived (waiver)"
    dave_gmp = matrix.cell(org.dave.id, org.req_gmp_analyst.id)
    assert dave_gmp.text == f"expired (expired {org.dave_valid_until})"
    erin_safety = matrix.cell(org.erin.id, org.req_safety.id)
    assert erin_safety.text == f"not started (due {org.today + timedelta(days=45)})"
    assert matrix.cell(org.carol.id, org.req_safety.id) is None  # not applicable to Carol


def test_matrix_filters_status_name_and_pages(org):
    overdue = matrices.training_matrix(org.today, matrices.MatrixFilters(status="overdue"))
    assert [p.name for p in overdue.people.items] == ["Alice Adams", "Carol Clark"]
    # All of their cells are shown, not only the overdue ones.
    assert overdue.cell(org.alice.id, org.req_gmp_operator.id).status == "compliant"

    named = matrices.training_matrix(org.today, matrices.MatrixFilters(q="DUNN"))
    assert [p.name for p in named.people.items] == ["Dave Dunn"]
    assert matrices.training_matrix(org.today, matrices.MatrixFilters(q="%")).people.total == 0

    page2 = matrices.training_matrix(
        org.today, matrices.MatrixFilters(job_role_id=org.operator.id), page=2, per_page=2
    )
    assert [p.name for p in page2.people.items] == ["Erin Evans"]
    assert page2.people.total == 3
    assert [c.requirement_id for c in page2.columns] == [
        org.req_gmp_operator.id,
        org.req_safety.id,
        org.req_sop.id,
    ]


def test_matrix_filters_from_args_ignore_junk():
    f = matrices.MatrixFilters.from_args(
        {"department_id": "x", "team_id": "-1", "job_role_id": "7", "status": "bad", "q": " ann "}
    )
    assert f == matrices.MatrixFilters(job_role_id=7, q="ann")
    assert f.args() == {"job_role_id": 7, "q": "ann"}


def test_matrix_is_three_queries_whatever_the_page_sizes(org, count_queries):
    """People, their requirements, then statuses for the cells shown (the planner settings
    PostgreSQL gets around the last one are not counted)."""
    for n in range(6):
        UserFactory(name=f"Zed {n}", department=org.quality, job_role=org.analyst)
    counts = []
    for per_page, col_per_page, shown in ((2, 1, 2), (20, 30, 15)):
        with count_queries() as statements:
            matrix = matrices.training_matrix(
                org.today, per_page=per_page, col_per_page=col_per_page
            )
        counts.append(len(statements))
        assert len(matrix.people.items) == shown
        assert len(matrix.columns) == min(col_per_page, 4)
    assert counts == [3, 3]


def test_matrix_pages_columns_and_derives_only_the_cells_shown(org):
    quality = matrices.MatrixFilters(department_id=org.quality.id)
    first = matrices.training_matrix(org.today, quality, col_per_page=3)
    assert [c.requirement_id for c in first.columns] == [
        org.req_gmp_operator.id,
        org.req_gmp_analyst.id,
        org.req_safety.id,
    ]
    cols = first.column_page
    assert (cols.total, cols.page, cols.pages, first.first_column) == (4, 1, 2, 1)
    assert {r for _, r in first.cells} == {c.requirement_id for c in first.columns}
    assert first.link_args(col_page=2) == {
        "department_id": org.quality.id,
        "col_per_page": 3,
        "col_page": 2,
    }
    second = matrices.training_matrix(org.today, quality, col_page=2, col_per_page=3)
    assert [c.requirement_id for c in second.columns] == [org.req_sop.id]
    assert second.first_column == 4
    assert set(second.cells) == {(p.id, org.req_sop.id) for p in (org.carol, org.dave, org.erin)}
    assert second.cell(org.carol.id, org.req_sop.id).status == "waived"
    # Past the last page: the last page.
    assert matrices.training_matrix(org.today, quality, col_page=7, col_per_page=3).columns == (
        second.columns
    )


def test_the_export_is_exactly_every_page_of_people_and_columns(org):
    """The CSV/XLSX table holds the same people, columns and cell texts as the grid's pages."""
    filters = matrices.MatrixFilters(status="overdue")  # Alice and Carol
    shown: dict[tuple[str, str], str] = {}
    people, headings = [], []
    page = 1
    while True:
        col_page = 1
        while True:
            grid = matrices.training_matrix(
                org.today, filters, page=page, per_page=1, col_page=col_page, col_per_page=1
            )
            for person, cells in grid.rows():
                if person.name not in people:
                    people.append(person.name)
                for column, cell in zip(grid.columns, cells, strict=True):
                    headings.append(column.heading)
                    shown[(person.name, column.heading)] = cell.text if cell else "n/a"
            if not grid.column_page.has_next:
                break
            col_page += 1
        if not grid.people.has_next:
            break
        page += 1
    header, rows = matrices._export_table(matrices.matrix_all(org.today, filters, Scope()))
    assert [r[0] for r in rows] == people == ["Alice Adams", "Carol Clark"]
    assert set(header[5:]) == set(headings)
    exported = {(r[0], h): v for r in rows for h, v in zip(header[5:], r[5:], strict=True)}
    # Each person's own columns match; the export adds "n/a" where another page's people
    # brought a column that does not apply to them.
    assert {k: v for k, v in exported.items() if k in shown} == shown
    assert {v for k, v in exported.items() if k not in shown} == {"n/a"}


def test_inactive_people_are_left_out(org):
    org.bob.active = False
    db.session.commit()
    rows = by_name(reports.summary(org.today, "department"))
    assert (rows["Production"].applicable, rows["Production"].ok) == (2, 1)
    assert "Bob Brown" not in [p.name for p in matrices.training_matrix(org.today).people.items]


def test_month_helpers():
    assert reports._months_back(date(2026, 1, 15), 1) == date(2025, 12, 1)
    assert reports._months_back(date(2026, 3, 31), 12) == date(2025, 3, 1)
    assert reports._month_end(date(2028, 2, 3)) == date(2028, 2, 29)
