"""Inspection pages: exports of training records for inspectors, and the validation evidence."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user

from app.gxp import inspection as svc
from app.gxp import validation_report as validation
from app.gxp.web.inspection.forms import ActionForm, ExportForm, ValidationEvidenceForm
from app.people.org import department_choices
from app.people.permissions import access
from app.platform.errors import Conflict, Invalid
from app.platform.pagination import clamp
from app.platform.web.htmx import render

bp = Blueprint("inspection", __name__)


def _actor():
    return current_user._get_current_object()


def _page() -> int:
    return clamp(request.args.get("page", 1), 20)[0]


def _exports_page(form: ExportForm, status: int = 200):
    exports = svc.list_exports(_page())
    response = render(
        "inspection/exports.html",
        "inspection/_exports.html",
        form=form,
        exports=exports,
        polling=svc.any_pending(exports.items),
        action_form=ActionForm(formdata=None),
    )
    response.status_code = status
    return response


@bp.route("/inspection-exports", methods=["GET", "POST"])
@access("inspection.export")
def exports():
    form = ExportForm()
    form.department_id.choices = [("", "Any department")] + [
        (str(d.id), d.name) for d in department_choices()
    ]
    if not form.is_submitted():
        form.person.data = request.args.get("email", "")
        return _exports_page(form)
    if form.validate_on_submit():
        try:
            export = svc.request_export(form.to_data(), _actor())
        except Invalid as exc:
            form.apply_errors(exc.errors, ExportForm.ALIASES)
        else:
            state = "is ready" if export.status == "done" else "is being built"
            flash(f"Inspection export #{export.id} {state}.", "success")
            return redirect(url_for(".exports"))
    return _exports_page(form, 422)


@bp.route("/inspection-exports/<int:export_id>/download", methods=["POST"])
@access("inspection.export")
def download(export_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        url = svc.export_download_url(export_id, _actor())
    except Conflict as exc:
        flash(exc.detail, "error")
        return redirect(url_for(".exports"))
    return redirect(url)


# How a report reads in the flash after it is built: never green unless every control passed.
_OUTCOME_FLASH = {
    "passed": ("success", "all {controls} requirements passed"),
    "failed": ("error", "{failed} of {controls} requirements failed"),
    "incomplete": ("warning", "{passed} passed and {not_run} not run of {controls} requirements"),
    "no_evidence": ("warning", "the results held no tests, so nothing is proven"),
}


def _validation_page(form: ValidationEvidenceForm, status: int = 200):
    response = render(
        "inspection/validation.html",
        "inspection/_validation_reports.html",
        reports=validation.list_reports(_page()),
        evidence=validation.build_evidence(),
        form=form,
        verdicts=validation.VERDICT_LABELS,
    )
    response.status_code = status
    return response


@bp.route("/validation", methods=["GET", "POST"])
@access("validation.view")
def validation_reports():
    form = ValidationEvidenceForm()
    if not form.is_submitted():
        return _validation_page(form)
    if not form.validate_on_submit():
        abort(400)
    try:
        report = validation.record_validation_evidence(
            _actor(), form.results.data, form.use_server_results.data
        )
    except Invalid as exc:
        form.apply_errors(exc.errors)
        return _validation_page(form, 422)
    category, text = _OUTCOME_FLASH[validation.report_outcome(report)]
    flash(f"Validation report #{report.id} recorded: {text.format(**report.summary)}.", category)
    return redirect(url_for(".validation_reports"))


@bp.route("/validation/<int:report_id>/report.pdf", defaults={"kind": "pdf"})
@bp.route("/validation/<int:report_id>/report.json", defaults={"kind": "json"})
@access("validation.view")
def validation_file(report_id: int, kind: str):
    return redirect(validation.report_file_url(report_id, kind))
