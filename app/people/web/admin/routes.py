"""Admin pages: people, roles, departments, teams, job roles and the CSV import of people."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app.people import org
from app.people import users as users_svc
from app.people.models import ROLES
from app.people.permissions import PERMISSIONS, access, can
from app.people.user_import import MAX_BYTES, apply_user_import, preview_user_import
from app.people.web.admin.forms import (
    DeleteForm,
    DepartmentForm,
    ImportApplyForm,
    ImportUploadForm,
    JobRoleForm,
    ReasonForm,
    RolesForm,
    TeamForm,
    UserForm,
)
from app.platform.errors import Conflict, DomainError, Forbidden, Invalid
from app.platform.web.htmx import is_htmx, render

bp = Blueprint("admin", __name__, url_prefix="/admin")

USER_FIELDS = [
    "name",
    "email",
    "hire_date",
    "manager_email",
    "department_id",
    "team_id",
    "job_role_id",
    "locale",
    "timezone",
    "is_seller",
    "shop_name",
    "seller_tier",
    "password",
]


def _actor():
    return current_user._get_current_object()


def _form_data(form: FlaskForm, names: list[str]) -> dict[str, Any]:
    return {name: form[name].data for name in names if name in form}


def _show_errors(form: FlaskForm, exc: DomainError) -> None:
    """Put a service's field errors on the form's fields (the rest above the form)."""
    for name, messages in exc.errors.items():
        if name in form:
            form[name].errors = list(messages)
        else:
            form.form_errors.extend(f"{name}: {m}" for m in messages)
    if not exc.errors:
        form.form_errors.append(exc.detail)


def _status() -> int:
    return 400 if request.method == "POST" else 200


# People --------------------------------------------------------------------------------------


def _org_menus() -> dict[str, Any]:
    return {
        "departments": org.department_choices(),
        "teams": org.team_choices(),
        "job_roles": org.job_role_choices(),
    }


@bp.route("/users")
@access("user.view")
def users():
    query = users_svc.UserQuery.from_args(request.args)
    results = users_svc.list_users(query)
    return render(
        "admin/users.html",
        "admin/_user_results.html",
        results=results,
        query=query,
        roles_all=ROLES,
        **({} if is_htmx() else _org_menus()),  # the fragment has no filter menus
    )


def _user_form(user=None) -> UserForm:
    initial = None
    if user is not None:
        initial = {
            "name": user.name,
            "email": user.email,
            "hire_date": user.hire_date.isoformat() if user.hire_date else "",
            "manager_email": user.manager.email if user.manager else "",
            "department_id": str(user.department_id or ""),
            "team_id": str(user.team_id or ""),
            "job_role_id": str(user.job_role_id or ""),
            "locale": user.locale,
            "timezone": user.timezone,
        }
        sells = users_svc.seller_facts(user)
        initial.update(
            is_seller=sells["is_seller"],
            shop_name=sells["shop_name"] or "",
            seller_tier=sells["seller_tier"] or "",
        )
    form = UserForm(data=initial)
    menus = _org_menus()
    form.fill_choices(
        menus["departments"], menus["teams"], menus["job_roles"], users_svc.timezone_choices()
    )
    if user is not None or not can(current_user, "role.manage"):
        del form.roles  # roles are granted on the detail page, by administrators only
    return form


@bp.route("/users/new", methods=["GET", "POST"])
@access("user.manage")
def user_new():
    form = _user_form()
    status = _status()
    if form.validate_on_submit():
        data = _form_data(form, [*USER_FIELDS, "roles"])
        try:
            user = users_svc.create_user(data, actor=_actor())
        except Invalid as exc:
            _show_errors(form, exc)
            status = 422
        else:
            flash(f"{user.name} was added.", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=None), status


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@access("user.manage")
def user_edit(user_id: int):
    user = users_svc.get_user(user_id)
    form = _user_form(user)
    status = _status()
    if form.validate_on_submit():
        try:
            users_svc.update_user(
                user.id,
                _form_data(form, USER_FIELDS),
                actor=_actor(),
                reason=form.change_reason.data,
                keep_token=session.get("sid"),
            )
        except Invalid as exc:
            _show_errors(form, exc)
            status = 422
        except Forbidden as exc:
            flash(exc.detail, "error")
            return redirect(url_for("admin.user_detail", user_id=user.id))
        else:
            flash("Changes saved.", "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_form.html", form=form, user=user), status


def _detail(user_id: int, reason_form=None, roles_form=None, status: int = 200):
    user = users_svc.get_user(user_id)
    page = render_template(
        "admin/user_detail.html",
        user=user,
        history=users_svc.user_history(user.id),
        reason_form=reason_form or ReasonForm(formdata=None),
        roles_form=roles_form or RolesForm(formdata=None, data={"roles": sorted(user.roles)}),
    )
    return page, status


@bp.route("/users/<int:user_id>")
@access("user.view")
def user_detail(user_id: int):
    return _detail(user_id)


def _set_active(user_id: int, active: bool):
    form = ReasonForm()
    if not form.validate_on_submit():
        return _detail(user_id, reason_form=form, status=400)
    try:
        if active:
            users_svc.reactivate_user(user_id, _actor(), form.reason.data)
        else:
            users_svc.deactivate_user(user_id, _actor(), form.reason.data)
    except Invalid as exc:
        _show_errors(form, exc)
        return _detail(user_id, reason_form=form, status=422)
    except (Forbidden, Conflict) as exc:
        flash(exc.detail, "error")
    else:
        flash(
            "Account reactivated." if active else "Account deactivated; its sessions ended.",
            "success",
        )
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.post("/users/<int:user_id>/deactivate")
@access("user.manage")
def user_deactivate(user_id: int):
    return _set_active(user_id, False)


@bp.post("/users/<int:user_id>/reactivate")
@access("user.manage")
def user_reactivate(user_id: int):
    return _set_active(user_id, True)


@bp.post("/users/<int:user_id>/roles")
@access("role.manage")
def user_roles(user_id: int):
    form = RolesForm()
    if not form.validate_on_submit():
        return _detail(user_id, roles_form=form, status=400)
    try:
        users_svc.set_user_roles(user_id, form.roles.data, actor=_actor())
    except Invalid as exc:
        _show_errors(form, exc)
        return _detail(user_id, roles_form=form, status=422)
    except Forbidden as exc:
        flash(exc.detail, "error")
    else:
        flash("Roles saved.", "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.get("/roles")
@access("user.view")
def roles():
    return render_template(
        "admin/roles.html",
        roles=ROLES,
        permissions=PERMISSIONS,
        counts=users_svc.count_users_by_role(),
    )


# CSV import ----------------------------------------------------------------------------------


@bp.route("/users/import", methods=["GET", "POST"])
@access("user.manage")
def user_import():
    form = ImportUploadForm()
    status = _status()
    if form.validate_on_submit():
        try:
            preview = preview_user_import(form.file.data.read(MAX_BYTES + 1), actor=_actor())
        except Invalid as exc:
            _show_errors(form, exc)
            status = 422
        else:
            apply_form = ImportApplyForm(formdata=None, csv_text=preview.text)
            return render_template("admin/import_preview.html", preview=preview, form=apply_form)
    return render_template("admin/import.html", form=form), status


@bp.post("/users/import/apply")
@access("user.manage")
def user_import_apply():
    form = ImportApplyForm()
    upload = ImportUploadForm(formdata=None)
    if not form.validate_on_submit():
        upload.form_errors.append("Nothing to import: upload the file again.")
        return render_template("admin/import.html", form=upload), 400
    try:
        result = apply_user_import(form.csv_text.data, actor=_actor())
    except Invalid as exc:
        if "file" in exc.errors:
            _show_errors(upload, exc)
            return render_template("admin/import.html", form=upload), 422
        preview = preview_user_import(form.csv_text.data, actor=_actor())
        flash(exc.detail, "error")
        return render_template("admin/import_preview.html", preview=preview, form=form), 422
    flash(
        f"Import done: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged.",
        "success",
    )
    return redirect(url_for("admin.users"))


# Departments, teams, job roles ---------------------------------------------------------------


@dataclass(frozen=True)
class OrgKind:
    """One organisation table's pages: list + create, edit, delete."""

    plural: str  # URL segment and endpoint of the list
    singular: str  # endpoint prefix of edit/delete
    title: str
    noun: str
    form: type[FlaskForm]
    fields: tuple[str, ...]
    get: Any
    create: Any
    update: Any
    delete: Any
    rows: Any


KINDS = (
    OrgKind(
        "departments",
        "department",
        "Departments",
        "department",
        DepartmentForm,
        ("name", "site"),
        org.get_department,
        org.create_department,
        org.update_department,
        org.delete_department,
        org.list_departments,
    ),
    OrgKind(
        "teams",
        "team",
        "Teams",
        "team",
        TeamForm,
        ("name", "department_id"),
        org.get_team,
        org.create_team,
        org.update_team,
        org.delete_team,
        org.list_teams,
    ),
    OrgKind(
        "job-roles",
        "job_role",
        "Job roles",
        "job role",
        JobRoleForm,
        ("name", "risk_level", "description"),
        org.get_job_role,
        org.create_job_role,
        org.update_job_role,
        org.delete_job_role,
        org.list_job_roles,
    ),
)


def _org_form(kind: OrgKind, obj=None) -> FlaskForm:
    initial = None
    if obj is not None:
        initial = {name: getattr(obj, name) for name in kind.fields}
        if "department_id" in initial:
            initial["department_id"] = str(initial["department_id"])
    form = kind.form(data=initial)
    if hasattr(form, "fill_choices"):
        form.fill_choices(org.department_choices())
    return form


def _org_list_view(kind: OrgKind):
    def view():
        form = _org_form(kind)
        status = _status()
        if form.validate_on_submit():
            try:
                item = kind.create(_form_data(form, list(kind.fields)), actor=_actor())
            except Invalid as exc:
                _show_errors(form, exc)
                status = 422
            else:
                flash(f"{kind.noun.capitalize()} {item.name} was added.", "success")
                return redirect(url_for(f"admin.{kind.singular}s"))
        page = render_template(
            f"admin/{kind.singular}s.html",
            kind=kind,
            form=form,
            rows=kind.rows(),
            delete_form=DeleteForm(formdata=None),
        )
        return page, status

    return view


def _org_edit_view(kind: OrgKind):
    def view(item_id: int):
        item = kind.get(item_id)
        form = _org_form(kind, item)
        status = _status()
        if form.validate_on_submit():
            try:
                kind.update(item.id, _form_data(form, list(kind.fields)), actor=_actor())
            except Invalid as exc:
                _show_errors(form, exc)
                status = 422
            else:
                flash("Changes saved.", "success")
                return redirect(url_for(f"admin.{kind.singular}s"))
        return render_template("admin/org_edit.html", kind=kind, form=form, item=item), status

    return view


def _org_delete_view(kind: OrgKind):
    def view(item_id: int):
        item = kind.get(item_id)
        name = item.name
        try:
            kind.delete(item.id, actor=_actor())
        except Conflict as exc:
            flash(exc.detail, "error")
        else:
            flash(f"{kind.noun.capitalize()} {name} was deleted.", "success")
        return redirect(url_for(f"admin.{kind.singular}s"))

    return view


for _kind in KINDS:
    _rule = access("org.manage")
    bp.add_url_rule(
        f"/{_kind.plural}",
        f"{_kind.singular}s",
        _rule(_org_list_view(_kind)),
        methods=["GET", "POST"],
    )
    bp.add_url_rule(
        f"/{_kind.plural}/<int:item_id>/edit",
        f"{_kind.singular}_edit",
        _rule(_org_edit_view(_kind)),
        methods=["GET", "POST"],
    )
    bp.add_url_rule(
        f"/{_kind.plural}/<int:item_id>/delete",
        f"{_kind.singular}_delete",
        _rule(_org_delete_view(_kind)),
        methods=["POST"],
    )
