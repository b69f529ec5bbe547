"""Compliance pages: the dashboard, the training matrix (with CSV/XLSX export), and the full
overdue and expiring lists. Managers see their direct reports only (viewer_scope)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from app.permissions import access
from app.services import compliance_reports as reports
from app.services.compliance import Scope, viewer_scope
from app.services.pagination import clamp
from app.web.htmx import is_htmx, render

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
    return reports.check_days(request.args.get("days"))


@bp.route("/compliance")
@access("compliance.view")
def dashboard():
    on, scope, days = reports.today(), _scope(), _days()
    expiring = reports.expiring(on, days, scope, 1, DASHBOARD_EXPIRING)
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
        overdue=reports.overdue(on, scope, 1, DASHBOARD_OVERDUE),
        expiring=expiring,
        days=days,
    )


@bp.route("/compliance/matrix")
@access("compliance.view")
def matrix():
    page, per_page = clamp(
        request.args.get("page"), request.args.get("per_page"), reports.MATRIX_PER_PAGE
    )
    filters = reports.MatrixFilters.from_args(request.args)
    grid = reports.training_matrix(reports.today(), filters, _scope(), page, per_page)
    choices = None if is_htmx() else reports.filter_choices()
    return render(
        "compliance/matrix.html",
        "compliance/_matrix.html",
        matrix=grid,
        filters=filters,
        choices=choices,
        statuses=reports.STATUSES,
    )


@bp.route("/compliance/matrix.csv", defaults={"fmt": "csv"})
@bp.route("/compliance/matrix.xlsx", defaults={"fmt": "xlsx"})
@access("compliance.view")
def matrix_export(fmt: str):
    on = reports.today()
    filters = reports.MatrixFilters.from_args(request.args)
    grid = reports.matrix_all(on, filters, _scope())
    name = f"training-matrix-{on.isoformat()}.{fmt}"
    if fmt == "csv":
        body, mimetype = reports.matrix_csv(grid), "text/csv; charset=utf-8"
    else:
        body = reports.matrix_xlsx(grid, on)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, mimetype=mimetype, headers=headers)


@bp.route("/compliance/overdue")
@access("compliance.view")
def overdue():
    page, per_page = clamp(request.args.get("page"), request.args.get("per_page"), 50)
    rows = reports.overdue(reports.today(), _scope(), page, per_page)
    return render("compliance/overdue.html", "compliance/_overdue_rows.html", rows=rows)


@bp.route("/compliance/expiring")
@access("compliance.view")
def expiring():
    page, per_page = clamp(request.args.get("page"), request.args.get("per_page"), 50)
    days = _days()
    rows = reports.expiring(reports.today(), days, _scope(), page, per_page)
    return render(
        "compliance/expiring.html",
        "compliance/_expiring_rows.html",
        rows=rows,
        days=days,
        choices=reports.EXPIRING_DAYS,
    )
