"""Compliance pages: dashboard with SVG charts, training matrix with filters and exports, the
overdue/expiring lists, the manager's home panel, and who may see what."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest

from app.compliance.models import ComplianceSnapshot, Waiver
from app.compliance.recertification import add_months_to_date
from app.extensions import db
from app.platform.audit import record_audit
from tests.compliance.factories import RequirementFactory
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory

HTMX = {"HX-Request": "true"}
PAGES = [
    "/compliance",
    "/compliance/matrix",
    "/compliance/matrix.csv",
    "/compliance/matrix.xlsx",
    "/compliance/overdue",
    "/compliance/overdue.csv",
    "/compliance/expiring?days=60",
    "/compliance/expiring.csv?days=60",
]


def text(resp) -> str:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return resp.get_data(as_text=True)


def svg(body: str, chart_id: str) -> str:
    m = re.search(rf'<svg[^>]*id="{chart_id}".*?</svg>', body, re.S)
    assert m, f"no SVG {chart_id}"
    return m.group(0)


def bar_values(chart: str) -> dict[str, str]:
    """{unit name: value text} from a bar chart."""
    return dict(
        re.findall(
            r'class="bar-label"[^>]*>([^<]+)</text>.*?class="bar-value"[^>]*>([^<]+)<', chart, re.S
        )
    )


def test_employee_may_not_see_compliance_pages(org, client, auth):
    auth.login(org.employee)
    assert {url: client.get(url).status_code for url in PAGES} == dict.fromkeys(PAGES, 403)


@pytest.mark.parametrize("role", ["hr", "qa", "mia"])
def test_hr_qa_and_managers_may(org, client, auth, role):
    auth.login(getattr(org, role))
    assert {url: client.get(url).status_code for url in PAGES} == dict.fromkeys(PAGES, 200)


def test_signed_out_visitors_are_sent_to_login(org, client):
    resp = client.get("/compliance")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_dashboard_draws_percent_bars_by_department_and_job_role(org, client, auth):
    auth.login(org.hr)
    body = text(client.get("/compliance"))
    assert "45% compliant" in body
    department = svg(body, "chart-department")
    assert bar_values(department) == {"Production": "75%", "Quality": "28%"}
    assert "<title>Production: 75% compliant (3 of 4)</title>" in department
    assert 'width="255.0"' in department  # 75 % of the 340-unit track
    assert bar_values(svg(body, "chart-job-role")) == {"Analyst": "50%", "Operator": "42%"}
    assert "style=" not in body  # CSP: no inline styles
    assert 'role="img"' in department


def test_long_unit_names_are_shortened_on_the_bars_and_whole_in_their_tooltip(org, client, auth):
    """The label column holds ~28 characters; longer names ran under the bars."""
    org.operator.name = "Learning & Development Specialist, Basel"
    db.session.commit()
    auth.login(org.hr)
    chart = svg(text(client.get("/compliance")), "chart-job-role")
    assert ">Learning & Development Spec…</text>" in chart.replace("&amp;", "&")
    assert "<title>Learning &amp; Development Specialist, Basel: " in chart


def test_dashboard_trend_has_twelve_months_with_snapshots(org, client, auth):
    last_month = (org.today.replace(day=1) - timedelta(days=1)).replace(day=1)
    db.session.add(ComplianceSnapshot(taken_on=last_month, applicable=20, compliant=19))
    db.session.commit()
    auth.login(org.hr)
    chart = svg(text(client.get("/compliance")), "trend-chart")
    assert chart.count('class="trend-point') == 12
    point = re.search(rf'data-month="{last_month:%Y-%m}">(.*?)</g>', chart, re.S).group(1)
    assert "95% compliant (19 of 20)" in point
    this_month = re.search(rf'data-month="{org.today:%Y-%m}">(.*?)</g>', chart, re.S).group(1)
    assert "45%" in this_month


def test_dashboard_lists_overdue_and_expiring(org, client, auth):
    auth.login(org.hr)
    body = text(client.get("/compliance"))
    overdue = body[body.index('id="overdue-panel"') : body.index('id="expiring-panel"')]
    assert [n for n in ("Carol Clark", "Dave Dunn", "Alice Adams") if n in overdue] == [
        "Carol Clark",
        "Dave Dunn",
        "Alice Adams",
    ]
    assert overdue.index("Carol Clark") < overdue.index("Alice Adams")
    expiring = body[body.index('id="expiring-panel"') :]
    assert "Bob Brown" in expiring and "Expiring within 30 days" in expiring
    assert "Alice Adams" not in expiring


def test_expiring_tabs_swap_only_the_panel_for_htmx(org, client, auth):
    auth.login(org.hr)
    resp = client.get("/compliance?days=365", headers=HTMX)
    body = text(resp)
    assert body.lstrip().startswith('<section class="card" id="expiring-panel"')
    assert "Expiring within 365 days" in body and "Alice Adams" in body
    assert "<html" not in body
    # Without JS the tab is a plain link to the full page.
    full = text(client.get("/compliance?days=90"))
    assert "<html" in full and 'aria-current="true">90 days' in full
    assert client.get("/compliance?days=0").status_code == 422


def test_people_link_to_their_record_when_that_page_exists(org, client, auth, app):
    auth.login(org.hr)
    body = text(client.get("/compliance/overdue"))
    cell = re.search(r"<td>([^<]*(?:<a [^>]*>)?Carol Clark.*?)</td>", body, re.S).group(1)
    if "records.person" in app.view_functions:
        assert '<a href="' in cell and str(org.carol.id) in cell
    else:
        assert "<a " not in cell


def test_matrix_shows_coloured_cells_with_status_words_and_dates(org, client, auth):
    auth.login(org.hr)
    body = text(client.get(f"/compliance/matrix?department_id={org.quality.id}"))
    row = re.search(rf'id="matrix-person-{org.carol.id}">(.*?)</tr>', body, re.S).group(1)
    due = org.today - timedelta(days=30)
    # One class and two lines of text per cell: the status word, then its date.
    assert f'<td class="cell-overdue">overdue\ndue {due}</td>' in row
    assert '<td class="cell-waived">waived\nwaiver</td>' in row
    assert '<td class="na">n/a</td>' in row  # Safety is an Operator requirement
    assert "n/a: not applicable" in body  # the legend says so
    assert "Alice Adams" not in body  # Production
    assert 'class="matrix-person"' in body and "<thead>" in body
    assert "style=" not in body


def test_matrix_filters_swap_the_grid_and_keep_export_links(org, client, auth):
    auth.login(org.hr)
    resp = client.get("/compliance/matrix?status=overdue&q=a", headers=HTMX)
    body = text(resp)
    assert "<html" not in body and "HX-Request" in resp.headers.get("Vary", "")
    assert "Alice Adams" in body and "Carol Clark" in body and "Bob Brown" not in body
    assert "/compliance/matrix.csv?status=overdue&amp;q=a" in body
    assert "/compliance/matrix.xlsx?status=overdue&amp;q=a" in body


def test_matrix_paginates_people(org, client, auth):
    auth.login(org.hr)
    body = text(client.get("/compliance/matrix?per_page=2&page=2"))
    assert "Page 2 of 5" in body
    assert [n for n in ("Alice", "Bob", "Carol", "Dave") if f"{n} " in body] == ["Carol", "Dave"]


def grid_headings(body: str) -> list[str]:
    return re.findall(r'<th scope="col">([^<]+)<small>', body)


def test_matrix_pages_requirement_columns_with_links_that_work_without_js(org, client, auth):
    auth.login(org.hr)
    url = f"/compliance/matrix?department_id={org.quality.id}&col_per_page=3"
    body = text(client.get(url))
    assert "Requirements 1–3 of 4" in body
    assert grid_headings(body) == ["GMP basics", "GMP basics", "Safety induction"]
    nxt = re.search(
        r'<a class="btn btn-small" href="([^"]+)" hx-get="\1" '
        r'hx-target="#matrix-grid" hx-push-url="true" rel="next">',
        body,
    )
    assert nxt and "Requirements →" in body and 'rel="prev"' not in body
    following = nxt.group(1).replace("&amp;", "&")
    assert f"department_id={org.quality.id}" in following and "col_page=2" in following
    page2 = text(client.get(following))  # a plain link: the full page
    assert "<html" in page2 and "Requirements 4–4 of 4" in page2
    assert grid_headings(page2) == ["SOP 7 cleaning"]
    row = re.search(rf'id="matrix-person-{org.carol.id}">(.*?)</tr>', page2, re.S).group(1)
    assert row.count("<td") == 1 and "waived" in row
    assert 'rel="prev"' in page2 and 'rel="next"' not in page2
    # Every page exports the same thing: all people and requirements for the filters.
    assert f'href="/compliance/matrix.csv?department_id={org.quality.id}"' in page2
    # A column page past the last shows the last.
    assert "Requirements 4–4 of 4" in text(client.get(url + "&col_page=9"))


def test_matrix_pagers_swap_only_the_grid_for_htmx(org, client, auth):
    auth.login(org.hr)
    resp = client.get("/compliance/matrix?col_per_page=2&col_page=2&per_page=3", headers=HTMX)
    body = text(resp)
    assert "<html" not in body and "<form" not in body and "HX-Request" in resp.headers["Vary"]
    # Alice, Bob (Operators) and Carol (Analyst, Quality) need four requirements between them.
    assert "Requirements 3–4 of 4" in body and "Page 1 of 3" in body
    # Another page of people starts again at its first columns; page sizes are kept.
    people_next = re.search(r'href="([^"]+)"[^>]*rel="next">Next', body).group(1)
    assert people_next == "/compliance/matrix?per_page=3&amp;col_per_page=2&amp;page=2"


def test_csv_export_is_every_page_of_what_the_matrix_shows(org, client, auth):
    auth.login(org.hr)
    resp = client.get(f"/compliance/matrix.csv?job_role_id={org.operator.id}&per_page=1")
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(text(resp))))
    header = rows[0]
    assert header[:5] == ["Person", "Email", "Department", "Team", "Job role"]
    assert header[5:] == [
        "GMP basics (GMP-1) for Operator",
        "Safety induction (SAF-1) for Operator",
        "SOP 7 cleaning (SOP-7) for Quality",
    ]
    people = {r[0]: r for r in rows[1:]}
    assert list(people) == ["Alice Adams", "Bob Brown", "Erin Evans"]
    alice_until = add_months_to_date(org.today - timedelta(days=40), 12)
    assert people["Alice Adams"][5:] == [
        f"compliant (until {alice_until})",
        f"overdue (due {org.today - timedelta(days=15)})",
        "n/a",
    ]
    assert people["Bob Brown"][5] == f"due soon (until {org.bob_valid_until})"
    assert people["Erin Evans"][7] == f"due soon (due {org.today + timedelta(days=30)})"


def test_csv_export_with_a_status_filter_lists_those_people_with_all_their_cells(org, client, auth):
    auth.login(org.hr)
    rows = list(csv.reader(io.StringIO(text(client.get("/compliance/matrix.csv?status=overdue")))))
    assert [r[0] for r in rows[1:]] == ["Alice Adams", "Carol Clark"]
    assert len(rows[0]) == 5 + 4  # GMP (Operator and Analyst), Safety, SOP
    assert any(cell.startswith("compliant") for cell in rows[1])


def test_csv_export_neutralises_formulas(org, client, auth):
    UserFactory(name='=HYPERLINK("http://evil")', department=org.quality, job_role=org.analyst)
    auth.login(org.hr)
    rows = list(csv.reader(io.StringIO(text(client.get("/compliance/matrix.csv?q=hyperlink")))))
    assert rows[1][0] == '\'=HYPERLINK("http://evil")'
    book = zipfile.ZipFile(io.BytesIO(client.get("/compliance/matrix.xlsx?q=hyperlink").data))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # written as text, never as a formula
    assert "&apos;=HYPERLINK" in book.read("xl/sharedStrings.xml").decode().replace("'", "&apos;")


@pytest.mark.parametrize("sign", ["\uff1d", "\uff0b", "\uff0d", "\uff20", "\t"])
def test_exports_neutralise_full_width_and_control_formula_starters(org, client, auth, sign):
    """Japanese and Chinese spreadsheet locales read a full-width ＝ as =."""
    UserFactory(name=f"{sign}HYPERLINK(1)", department=org.quality, job_role=org.analyst)
    auth.login(org.hr)
    resp = client.get("/compliance/matrix.csv?q=hyperlink")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(text(resp))))
    assert rows[1][0] == f"'{sign}HYPERLINK(1)"
    book = zipfile.ZipFile(io.BytesIO(client.get("/compliance/matrix.xlsx?q=hyperlink").data))
    strings = book.read("xl/sharedStrings.xml").decode()
    assert f"'{sign}HYPERLINK(1)" in strings.replace("&apos;", "'")


@pytest.mark.parametrize(
    "url", ["/compliance/matrix.csv", "/compliance/overdue.csv", "/compliance/expiring.csv"]
)
def test_csv_exports_name_one_charset(org, client, auth, url):
    auth.login(org.hr)
    resp = client.get(url)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_xlsx_export_has_a_frozen_header_and_status_text(org, client, auth):
    auth.login(org.hr)
    resp = client.get(f"/compliance/matrix.xlsx?department_id={org.quality.id}")
    assert resp.mimetype.endswith("spreadsheetml.sheet")
    book = zipfile.ZipFile(io.BytesIO(resp.data))
    sheet = book.read("xl/worksheets/sheet1.xml").decode()
    strings = (
        book.read("xl/sharedStrings.xml").decode()
        if "xl/sharedStrings.xml" in book.namelist()
        else sheet
    )
    for expected in ("Person", "Carol Clark", "Dave Dunn", "Erin Evans", "waived (waiver)"):
        assert expected in strings
    assert "Alice Adams" not in strings
    assert f"expired (expired {org.dave_valid_until})" in strings
    assert 'state="frozen"' in sheet and 'ySplit="1"' in sheet


def test_manager_sees_only_direct_reports_everywhere(org, client, auth):
    auth.login(org.mia)
    dashboard = text(client.get("/compliance"))
    assert bar_values(svg(dashboard, "chart-department")) == {"Production": "75%"}
    assert "Carol Clark" not in dashboard and "Alice Adams" in dashboard
    matrix = text(client.get("/compliance/matrix"))
    assert "Alice Adams" in matrix and "Bob Brown" in matrix
    for other in ("Carol Clark", "Dave Dunn", "Erin Evans", "Hana HR"):
        assert other not in matrix
    # Asking for another department finds nobody rather than leaking it.
    assert "Carol Clark" not in text(
        client.get(f"/compliance/matrix?department_id={org.quality.id}")
    )
    exported = text(client.get("/compliance/matrix.csv"))
    assert "Alice Adams" in exported and "Carol Clark" not in exported
    overdue = text(client.get("/compliance/overdue"))
    assert "Alice Adams" in overdue and "Carol Clark" not in overdue
    assert "Bob Brown" in text(client.get("/compliance/expiring"))
    rows = list(csv.DictReader(io.StringIO(text(client.get("/compliance/overdue.csv")))))
    assert [r["person"] for r in rows] == ["Alice Adams"]


def test_overdue_and_expiring_pages_paginate(org, client, auth):
    auth.login(org.hr)
    body = text(client.get("/compliance/overdue?per_page=2&page=2"))
    assert "Alice Adams" in body and "Carol Clark" not in body and "Page 2 of 2" in body
    fragment = text(client.get("/compliance/overdue?per_page=2", headers=HTMX))
    assert "<html" not in fragment and "Carol Clark" in fragment
    expiring = text(client.get("/compliance/expiring?days=365"))
    assert expiring.index("Bob Brown") < expiring.index("Alice Adams")
    assert client.get("/compliance/expiring?days=400").status_code == 422


def test_overdue_and_expiring_filter_by_unit_and_export_what_they_show(org, client, auth):
    auth.login(org.qa)
    quality = f"department_id={org.quality.id}"
    page = text(client.get(f"/compliance/overdue?{quality}"))
    assert "Carol Clark" in page and "Dave Dunn" in page and "Alice Adams" not in page
    assert "2 late requirements" in page
    assert f'<option value="{org.quality.id}" selected>Quality</option>' in page
    assert f'href="/compliance/overdue.csv?{quality}"' in page  # the export keeps the filter
    fragment = text(client.get(f"/compliance/overdue?job_role_id={org.operator.id}", headers=HTMX))
    assert "<html" not in fragment and "<select" not in fragment
    assert "Alice Adams" in fragment and "Carol Clark" not in fragment

    exported = text(client.get(f"/compliance/overdue.csv?{quality}"))
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["person"], r["requirement_code"], r["status"], r["days_late"]) for r in rows] == [
        ("Carol Clark", "GMP-1", "overdue", "30"),
        ("Dave Dunn", "GMP-1", "expired", "30"),
    ]
    assert rows[1]["valid_until"] == org.dave_valid_until.isoformat()
    everyone = list(csv.DictReader(io.StringIO(text(client.get("/compliance/overdue.csv")))))
    assert len(everyone) == 3  # every row, not a page: the page shows 50

    production = f"department_id={org.production.id}"
    soon = text(client.get(f"/compliance/expiring?days=365&{production}"))
    assert "Bob Brown" in soon and "Alice Adams" in soon and "Erin" not in soon
    assert f'href="/compliance/expiring.csv?days=365&amp;{production}"' in soon
    rows = list(
        csv.DictReader(
            io.StringIO(text(client.get(f"/compliance/expiring.csv?days=365&{production}")))
        )
    )
    assert [(r["person"], r["days_left"]) for r in rows] == [
        ("Bob Brown", str((org.bob_valid_until - org.today).days)),
        ("Alice Adams", rows[1]["days_left"]),
    ]
    assert client.get("/compliance/expiring.csv?days=400").status_code == 422
    # Junk in the filters is ignored, as on the matrix.
    assert "3 late requirements" in text(client.get("/compliance/overdue?department_id=abc"))


def _more_people(org, n):
    for i in range(n):
        UserFactory(name=f"Yan {i:02d}", department=org.quality, job_role=org.analyst)


def test_matrix_and_overdue_query_counts_do_not_grow_with_rows(org, client, auth, count_queries):
    auth.login(org.hr)
    urls = [
        "/compliance/matrix",
        "/compliance/matrix?col_per_page=2&col_page=2",
        "/compliance/overdue",
        "/compliance/matrix.csv",
        "/compliance",
    ]
    before = {}
    for url in urls:
        client.get(url)
        with count_queries() as statements:
            text(client.get(url))
        before[url] = len(statements)
    _more_people(org, 12)
    for n in range(3):  # and more requirement columns
        RequirementFactory(
            job_role=org.analyst, course=CourseFactory(title=f"Extra {n}"), due_days=365
        )
    from app.compliance.engine import run_requirement_engine

    run_requirement_engine(on=org.today - timedelta(days=60))
    for url in urls:
        with count_queries() as statements:
            body = text(client.get(url))
        assert len(statements) == before[url], url
        assert "Yan 11" in body or url == "/compliance"


def test_manager_home_shows_team_compliance(org, client, auth):
    auth.login(org.mia)
    body = text(client.get("/home"))
    panel = body[body.index('id="team-compliance"') :]
    panel = panel[: panel.index("</section>")]
    assert "75% compliant" in panel and "3 of 4" in panel
    assert "<strong>1</strong> overdue" in panel
    assert "Alice Adams" in panel and "Safety induction" in panel
    assert "Carol Clark" not in panel
    assert 'id="team-training"' in body  # the existing "My team" panel stays


def test_employee_home_has_no_team_compliance(org, client, auth):
    auth.login(org.employee)
    body = text(client.get("/home"))
    assert "team-compliance" not in body and 'id="my-training"' in body


def test_matrix_kept_per_viewer_scope_until_the_records_change(org, client, auth, app):
    """The rendered grid is reused while the audit trail stands still: never across scopes."""
    app.config["COMPLIANCE_CACHE_SECONDS"] = 600
    auth.login(org.hr)
    url = f"/compliance/matrix?job_role_id={org.operator.id}"
    first = text(client.get(url))
    assert "Erin Evans" in first and "Alice Adams" in first
    auth.logout()
    auth.login(org.mia)  # a manager: the same URL shows only her direct reports
    mine = text(client.get(url))
    assert "Alice Adams" in mine and "Erin Evans" not in mine
    auth.logout()
    auth.login(org.hr)
    erin = rf'id="matrix-person-{org.erin.id}">(.*?)</tr>'
    assert "cell-waived" not in re.search(erin, text(client.get(url)), re.S).group(1)
    db.session.add(
        Waiver(
            user_id=org.erin.id,
            requirement_id=org.req_safety.id,
            reason="Office only",
            status="approved",
            starts_on=org.today,
            ends_on=org.today + timedelta(days=30),
        )
    )
    record_audit("create", "waiver", 0, after={"status": "approved"})
    db.session.commit()
    assert "cell-waived" in re.search(erin, text(client.get(url)), re.S).group(1)
