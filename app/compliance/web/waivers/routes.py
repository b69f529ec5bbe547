"""Waiver pages: the list (pending first), HR's request form, QA's decision, withdrawal."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.audit.signatures import manifestations_for
from app.compliance import waivers as svc
from app.compliance.web.waivers.forms import DecisionForm, RequestForm
from app.people.permissions import access
from app.platform import clock
from app.platform.errors import Conflict, Forbidden, Invalid, RateLimited
from app.platform.web.forms import ActionForm
from app.platform.web.htmx import render

bp = Blueprint("waivers", __name__)


def _actor():
    return current_user._get_current_object()


@bp.route("/waivers")
@access("compliance.view")
def index():
    query = svc.WaiverQuery.from_args(request.args)
    return render(
        "waivers/index.html",
        "waivers/_rows.html",
        results=svc.list_waivers(query, _actor()),
        query=query,
    )


@bp.route("/waivers/new", methods=["GET", "POST"])
@access("waiver.request")
def new():
    form = RequestForm(data={"starts_on": clock.today().isoformat()})
    form.requirement_id.choices = [("", "—")] + [
        (str(i), label) for i, label in svc.requirement_choices()
    ]
    if not form.is_submitted():
        form.requirement_id.data = request.args.get("requirement_id", "")
        form.person.data = request.args.get("email", "")
    if form.validate_on_submit():
        try:
            waiver = svc.request_waiver(form.to_data(), _actor())
        except Invalid as exc:
            form.apply_errors(exc.errors, RequestForm.ALIASES)
        except Conflict as exc:
            form.form_errors.append(exc.detail)
        else:
            flash(f"Waiver requested for {waiver.user.name}; QA will decide it.", "success")
            return redirect(url_for(".detail", waiver_id=waiver.id))
    status = 422 if form.is_submitted() else 200
    return render_template("waivers/new.html", form=form), status


def _detail(
    waiver_id: int,
    form: DecisionForm | None = None,
    status: int = 200,
    sign_errors: list[str] | None = None,
):
    waiver = svc.get_viewable_waiver(waiver_id, _actor())
    page = render_template(
        "waivers/detail.html",
        waiver=waiver,
        signatures=manifestations_for("waiver", waiver.id),
        sign_errors=sign_errors,
        form=form or DecisionForm(formdata=None),
        action_form=ActionForm(formdata=None),
        active=svc.is_active(waiver),
    )
    return page, status


@bp.route("/waivers/<int:waiver_id>")
@access("compliance.view")
def detail(waiver_id: int):
    return _detail(waiver_id)


@bp.route("/waivers/<int:waiver_id>/decide", methods=["POST"])
@access("waiver.approve")
def decide(waiver_id: int):
    form = DecisionForm()
    if form.validate_on_submit():
        decision = request.form.get("decision", "")
        try:
            waiver = svc.decide_waiver(
                waiver_id,
                decision,
                form.note.data,
                _actor(),
                password=request.form.get("signature_password"),
            )
        except Invalid as exc:
            form.apply_errors({k: v for k, v in exc.errors.items() if k != "password"})
            return _detail(waiver_id, form, 422, exc.errors.get("password"))
        except (Conflict, Forbidden, RateLimited) as exc:
            flash(exc.detail, "error")
        else:
            flash(f"Waiver {waiver.status}.", "success")
    return redirect(url_for(".detail", waiver_id=waiver_id))


@bp.route("/waivers/<int:waiver_id>/withdraw", methods=["POST"])
@access("waiver.request")
def withdraw(waiver_id: int):
    if ActionForm().validate_on_submit():
        try:
            svc.withdraw_waiver(waiver_id, _actor())
        except (Conflict, Forbidden) as exc:
            flash(exc.detail, "error")
        else:
            flash("Waiver withdrawn.", "success")
    return redirect(url_for(".detail", waiver_id=waiver_id))
