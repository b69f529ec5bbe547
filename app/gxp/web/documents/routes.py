"""Documents pages: the SOP list, a document with its versions, uploads, QA's signed review
and approval of a version."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.gxp import documents as svc
from app.gxp import segregation, versions
from app.gxp.web.documents.forms import (
    ClassifyForm,
    DocumentForm,
    EditDocumentForm,
    EffectiveForm,
    TypeRuleForm,
    VersionForm,
)
from app.people.org import department_choices, job_role_choices
from app.people.permissions import access
from app.people.sod import SelfApproval
from app.platform import clock
from app.platform.errors import Conflict, Invalid, RateLimited
from app.platform.pagination import clamp
from app.platform.web.htmx import render

bp = Blueprint("documents", __name__)


def _actor():
    return current_user._get_current_object()


def _password() -> str | None:
    return request.form.get("signature_password")


@bp.route("/documents")
@access("document.view")
def index():
    query = svc.DocumentQuery.from_args(request.args)
    return render(
        "documents/index.html",
        "documents/_rows.html",
        results=svc.list_documents(query),
        query=query,
    )


@bp.route("/documents/new", methods=["GET", "POST"])
@access("document.manage")
def new():
    form = DocumentForm().fill(job_role_choices(), department_choices())
    if not form.is_submitted():
        form.owner_email.data = current_user.email
    if form.validate_on_submit():
        try:
            doc = svc.create_document(form.to_data(), _actor())
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash(f"{doc.number} created with its read-and-understand course.", "success")
            return redirect(url_for(".detail", document_id=doc.id))
    status = 422 if form.is_submitted() else 200
    return render_template("documents/new.html", form=form), status


@bp.route("/documents/types")
@access("document.manage")
def types():
    return render_template(
        "documents/types.html", rules=segregation.type_rules(), form=TypeRuleForm(formdata=None)
    )


@bp.route("/documents/types/<document_type>", methods=["POST"])
@access("document.manage")
def set_type_rule(document_type: str):
    form = TypeRuleForm()
    if form.validate_on_submit():
        try:
            rule = segregation.set_type_rule(document_type, form.separations.data, _actor())
        except Invalid as exc:
            flash(exc.detail, "error")
        else:
            flash(f"{rule.name}: {rule.summary}", "success")
    return redirect(url_for(".types"))


@bp.route("/documents/<int:document_id>")
@access("document.view")
def detail(document_id: int):
    page, per_page = clamp(request.args.get("page"), request.args.get("per_page"))
    return render(
        "documents/detail.html",
        "documents/_training.html",
        view=svc.document_view(document_id),
        people=svc.training_status(document_id, page, per_page),
    )


@bp.route("/documents/<int:document_id>/edit", methods=["GET", "POST"])
@access("document.manage")
def edit(document_id: int):
    doc = svc.get_document(document_id)
    form = EditDocumentForm() if request.method == "POST" else EditDocumentForm.for_document(doc)
    form.fill(job_role_choices(), department_choices())
    if form.validate_on_submit():
        try:
            svc.update_document(document_id, form.to_data(), _actor())
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash("Document saved.", "success")
            return redirect(url_for(".detail", document_id=document_id))
    status = 422 if form.is_submitted() else 200
    return render_template("documents/edit.html", form=form, document=doc), status


@bp.route("/documents/<int:document_id>/versions/new", methods=["GET", "POST"])
@access("document.manage")
def new_version(document_id: int):
    doc = svc.get_document(document_id)
    form = VersionForm()
    if not form.is_submitted():
        form.version.data = versions.suggest_next_version(doc.id)
    if form.validate_on_submit():
        try:
            version = versions.add_version(
                doc.id, {"version": form.version.data}, form.file.data, _actor()
            )
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash(f"Version {version.version} uploaded as a draft.", "success")
            return redirect(url_for(".version", document_id=doc.id, version_id=version.id))
    status = 422 if form.is_submitted() else 200
    return render_template("documents/version_new.html", form=form, document=doc), status


def _version_page(document_id: int, version_id: int, status: int = 200, **forms):
    view = versions.version_view(document_id, version_id, _actor())
    classify = forms.get("classify") or ClassifyForm(formdata=None)
    effective = forms.get("effective") or EffectiveForm(
        formdata=None, data={"effective_date": clock.today().isoformat()}
    )
    page = render_template(
        "documents/version.html",
        view=view,
        classify_form=classify,
        effective_form=effective,
        classify_password=forms.get("classify_password"),
        effective_password=forms.get("effective_password"),
    )
    return page, status


@bp.route("/documents/<int:document_id>/versions/<int:version_id>")
@access("document.view")
def version(document_id: int, version_id: int):
    return _version_page(document_id, version_id)


def _signed(action, form, document_id: int, version_id: int, name: str, done: str):
    """Run a signed QA action; re-render with the errors (password ones under the signature)
    or redirect with `done`."""
    if form.validate_on_submit():
        try:
            action(document_id, version_id, form.to_data(), _password(), _actor())
        except Invalid as exc:
            form.apply_errors({k: v for k, v in exc.errors.items() if k != "password"})
            kwargs = {name: form, f"{name}_password": exc.errors.get("password")}
            return _version_page(document_id, version_id, 422, **kwargs)
        except RateLimited as exc:
            kwargs = {name: form, f"{name}_password": [exc.detail]}
            return _version_page(document_id, version_id, 429, **kwargs)
        except (Conflict, SelfApproval) as exc:
            flash(exc.detail, "error")
        else:
            flash(done, "success")
    return redirect(url_for(".version", document_id=document_id, version_id=version_id))


@bp.route("/documents/<int:document_id>/versions/<int:version_id>/classify", methods=["POST"])
@access("document.approve")
def classify(document_id: int, version_id: int):
    return _signed(
        versions.classify_version,
        ClassifyForm(),
        document_id,
        version_id,
        "classify",
        "Change classified and signed.",
    )


@bp.route("/documents/<int:document_id>/versions/<int:version_id>/effective", methods=["POST"])
@access("document.approve")
def make_effective(document_id: int, version_id: int):
    return _signed(
        versions.make_effective,
        EffectiveForm(),
        document_id,
        version_id,
        "effective",
        "Version approved and effective. Training is being assigned where it applies.",
    )
