"""Requirements pages: the rows with filters, add, HTMX inline edit, end and delete."""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app.compliance.engine import recent_engine_runs, run_engine_now
from app.compliance.requirements import (
    RequirementQuery,
    create_requirement,
    delete_requirement,
    end_requirement,
    get_requirement,
    list_requirements,
    scope_choices,
    target_choices,
    update_requirement,
)
from app.compliance.web.requirements.forms import MONTHS, ActionForm, EndForm, RequirementForm
from app.people.permissions import access, can
from app.platform import clock
from app.platform.errors import Conflict, Invalid
from app.platform.inputs import to_date
from app.platform.web.htmx import is_htmx, render

bp = Blueprint("requirements", __name__)

NEW_DEFAULTS = {
    "due_days": "30",
    "due_basis": "assignment",
    "recert_mode": "relative",
    "recert_window_days": "60",
    "grace_days": "0",
    "risk_level": "medium",
}


@bp.context_processor
def _helpers():
    return {
        "today": clock.today(),
        "month_names": MONTHS,
        "scope_labels": {"job_role": "Job role", "department": "Department", "team": "Team"},
    }


def _actor():
    return current_user._get_current_object()


def _filled(form: RequirementForm) -> RequirementForm:
    return form.fill(scope_choices(), target_choices())


def _vary(body, status: int = 200):
    """One URL serves the page and the fragment: caches must key on HX-Request."""
    response = make_response(body, status)
    response.headers.add("Vary", "HX-Request")
    return response


@bp.route("/requirements")
@access("compliance.view")
def index():
    query = RequirementQuery.from_args(request.args)
    menus = {} if is_htmx() else {"scopes": scope_choices(), "targets": target_choices()}
    if not is_htmx() and can(current_user, "compliance.manage"):
        menus["engine_runs"] = recent_engine_runs()
    return render(
        "requirements/index.html",
        "requirements/_rows.html",
        results=list_requirements(query),
        query=query,
        action_form=ActionForm(formdata=None),
        **menus,
    )


@bp.route("/requirements/engine-runs", methods=["GET", "POST"])
@access("compliance.manage")
def engine_runs():
    """The engine's latest runs (the page polls this while one runs); POST starts one now."""
    notice = None
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            notice = ("error", "The form expired; reload the page and try again.")
        else:
            try:
                run_engine_now(_actor())
                notice = ("success", "The requirement engine is running for everyone.")
            except Conflict as exc:
                notice = ("error", exc.detail)
    if not is_htmx():
        if notice:
            flash(notice[1], notice[0])
        return redirect(url_for("requirements.index"), 303)
    body = render_template(
        "requirements/_engine_runs.html", engine_runs=recent_engine_runs(), notice=notice
    )
    return _vary(body)


@bp.route("/requirements/new", methods=["GET", "POST"])
@access("compliance.manage")
def new():
    form = _filled(RequirementForm(data={**NEW_DEFAULTS, "effective_from": clock.today()}))
    if form.validate_on_submit():
        try:
            req = create_requirement(form.to_data(), _actor())
        except Invalid as exc:
            form.apply_errors(exc.errors, RequirementForm.ALIASES)
        else:
            flash(f"Requirement added: {req.scope_name} must hold {req.target_title}.", "success")
            return redirect(url_for(".index"))
    status = 422 if form.is_submitted() else 200
    return render_template("requirements/new.html", form=form), status


@bp.route("/requirements/<int:requirement_id>/row")
@access("compliance.view")
def row(requirement_id: int):
    """One row as shown in the table (what Cancel swaps back in)."""
    req = get_requirement(requirement_id)
    if not is_htmx():
        return redirect(url_for(".index"))
    action_form = ActionForm(formdata=None)
    return _vary(render_template("requirements/_row.html", req=req, action_form=action_form))


@bp.route("/requirements/<int:requirement_id>/edit", methods=["GET", "POST"])
@access("compliance.manage")
def edit(requirement_id: int):
    """The edit form: a table-row fragment for htmx, a full page otherwise."""
    req = get_requirement(requirement_id)
    form = _filled(RequirementForm.for_requirement(req))
    if form.validate_on_submit():
        try:
            req = update_requirement(req.id, form.to_data(), _actor(), reason=form.reason.data)
        except Invalid as exc:
            form.apply_errors(exc.errors, RequirementForm.ALIASES)
        else:
            if is_htmx():
                return _vary(
                    render_template(
                        "requirements/_row.html",
                        req=req,
                        action_form=ActionForm(formdata=None),
                        saved=True,
                    )
                )
            flash("Requirement saved.", "success")
            return redirect(url_for(".index"))
    if is_htmx():
        # htmx swaps only 2xx answers: the form with its errors comes back as a 200.
        return _vary(render_template("requirements/_edit_row.html", form=form, req=req))
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "requirements/edit.html",
        form=form,
        req=req,
        end_form=EndForm(formdata=None),
        action_form=ActionForm(formdata=None),
    )
    return _vary(page, status)


@bp.route("/requirements/<int:requirement_id>/end", methods=["POST"])
@access("compliance.manage")
def end(requirement_id: int):
    form = EndForm()
    if form.validate_on_submit():
        errors: dict = {}
        on = to_date(errors, "effective_to", form.effective_to.data)
        try:
            if errors:
                raise Invalid("Bad date.", errors)
            req = end_requirement(requirement_id, on, _actor())
        except Invalid as exc:
            flash(" ".join(m for ms in exc.errors.values() for m in ms) or exc.detail, "error")
            return redirect(url_for(".edit", requirement_id=requirement_id))
        except Conflict as exc:
            flash(exc.detail, "error")
        else:
            flash(
                f"Requirement ended: it no longer applies after {req.effective_to.isoformat()}.",
                "success",
            )
    return redirect(url_for(".index"))


@bp.route("/requirements/<int:requirement_id>/delete", methods=["POST"])
@access("compliance.manage")
def delete(requirement_id: int):
    form = ActionForm()
    if form.validate_on_submit():
        try:
            delete_requirement(requirement_id, _actor())
        except Conflict as exc:
            flash(exc.detail, "error")
        else:
            flash("Requirement deleted.", "success")
    return redirect(url_for(".index"))
