"""Compliance pages: the dashboard, the training matrix (with CSV/XLSX export), and the full
overdue and expiring lists. Managers see their direct reports only (viewer_scope)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BuildError

from app.compliance import gaps, reports
from app.compliance import matrix as matrices
from app.compliance.engine import viewer_scope
from app.compliance.statuses import Scope
from app.people.permissions import access
from app.platform.memo import until_records_change
from app.platform.pagination import clamp
from app.platform.web.htmx import is_htmx, render

bp = Blueprint("compliance", __name__)

PERSON_ENDPOINT = "records.person"
DASHBOARD_OVERDUE = 10
DASHBOARD_EXPIRING = 10


@bp.app_template_global("person_url")
def person_url(user_id: int) -> str | None:
    """The person's training record page, or None while that page does not exist."""
    if PERSON_ENDPOINT not in current_app.view_functions:
        return None
    try:
        return url_for(PERSON_ENDPOINT, user_id=user_id)
    except BuildError:
        return None


def _scope() -> Scope:
    return viewer_scope(current_user._get_current_object())


def _days() -> int:
    return gaps.check_days(request.args.get("days"))


@bp.route("/compliance")
@access("compliance.view")
def dashboard():
    on, scope, days = reports.today(), _scope(), _days()
    expiring = gaps.expiring(on, days, scope, 1, DASHBOARD_EXPIRING)
    if is_htmx():  # the 30/60/90 tabs swap only the expiring panel
        return render_template("compliance/_expiring_panel.html", expiring=expiring, days=days)
    units = reports.summaries(on, scope)
    total = reports.overall(units["department"])
    return render_template(
        "compliance/dashboard.html",
        on=on,
        units=units,
        total=total,
        trend=reports.trend(on, scope=scope, current=total),
        overdue=gaps.overdue(on, scope, 1, DASHBOARD_OVERDUE),
        expiring=expiring,
        days=days,
    )


@bp.route("/compliance/matrix")
@access("compliance.view")
def matrix():
    args = request.args
    page, per_page = clamp(args.get("page"), args.get("per_page"), matrices.MATRIX_PER_PAGE)
    col_page, col_per_page = clamp(
        args.get("col_page"), args.get("col_per_page"), matrices.MATRIX_COLUMNS
    )
    filters = matrices.MatrixFilters.from_args(args)
    grid, filter_form = _matrix_parts(
        reports.today(), filters, _scope(), page, per_page, col_page, col_per_page
    )
    if is_htmx():  # filters and pagers swap only the grid
        response = make_response(grid)
    else:
        response = make_response(
            render_template("compliance/matrix.html", grid=grid, filter_form=filter_form)
        )
    response.headers.add("Vary", "HX-Request")
    return response


@until_records_change
def _matrix_parts(
    on, filters, scope, page, per_page, col_page, col_per_page
) -> tuple[Markup, Markup]:
    """The grid and the filter form, rendered once per process until the audit trail moves.

    Neither holds anything per user (the viewer's scope is part of the key), so a matrix page
    that is viewed again is the page chrome around two strings; a 50 x 30 grid takes ~2 ms to
    render and its statuses 20-40 ms to derive.
    """
    grid = matrices.training_matrix(on, filters, scope, page, per_page, col_page, col_per_page)
    return (
        Markup(render_template("compliance/_matrix.html", matrix=grid, filters=filters)),
        Markup(
            render_template(
                "compliance/_matrix_filters.html",
                filters=filters,
                choices=reports.filter_choices(),
                statuses=reports.STATUSES,
            )
        ),
    )


@bp.route("/compliance/matrix.csv", defaults={"fmt": "csv"})
@bp.route("/compliance/matrix.xlsx", defaults={"fmt": "xlsx"})
@access("compliance.view")
def matrix_export(fmt: str):
    on = reports.today()
    filters = matrices.MatrixFilters.from_args(request.args)
    grid = matrices.matrix_all(on, filters, _scope())
    name = f"training-matrix-{on.isoformat()}.{fmt}"
    if fmt == "csv":
        body, mimetype = matrices.matrix_csv(grid), "text/csv"
    else:
        body = matrices.matrix_xlsx(grid, on)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, mimetype=mimetype, headers=headers)


def _units() -> reports.UnitFilters:
    return reports.UnitFilters.from_args(request.args)


def _unit_choices():
    """The filter menus, for the full page only (htmx swaps just the rows)."""
    return None if is_htmx() else reports.filter_choices()


@bp.route("/compliance/overdue")
@access("compliance.view")
def overdue():
    page, per_page = clamp(request.args.get("page"), request.args.get("per_page"), 50)
    units = _units()
    rows = gaps.overdue(reports.today(), units.scope(_scope()), page, per_page)
    return render(
        "compliance/overdue.html",
        "compliance/_overdue_rows.html",
        rows=rows,
        filters=units,
        choices=_unit_choices(),
    )


@bp.route("/compliance/overdue.csv")
@access("compliance.view")
def overdue_export():
    on = reports.today()
    rows = gaps.overdue_rows(on, _units().scope(_scope()))
    return _csv(gaps.gaps_csv(rows, "days_late"), f"overdue-{on.isoformat()}.csv")


@bp.route("/compliance/expiring")
@access("compliance.view")
def expiring():
    page, per_page = clamp(request.args.get("page"), request.args.get("per_page"), 50)
    days, units = _days(), _units()
    rows = gaps.expiring(reports.today(), days, units.scope(_scope()), page, per_page)
    return render(
        "compliance/expiring.html",
        "compliance/_expiring_rows.html",
        rows=rows,
        days=days,
        day_choices=gaps.EXPIRING_DAYS,
        filters=units,
        choices=_unit_choices(),
    )


@bp.route("/compliance/expiring.csv")
@access("compliance.view")
def expiring_export():
    on, days = reports.today(), _days()
    rows = gaps.expiring_rows(on, days, _units().scope(_scope()))
    name = f"expiring-{days}-days-{on.isoformat()}.csv"
    return _csv(gaps.gaps_csv(rows, "days_left"), name)


def _csv(body: str, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, mimetype="text/csv", headers=headers)
