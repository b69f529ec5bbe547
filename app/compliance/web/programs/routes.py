"""Program pages: list, create, edit, pick and order the courses, delete."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.compliance import programs as svc
from app.compliance.programs import ProgramQuery
from app.compliance.web.programs.forms import ActionForm, AddCourseForm, ProgramForm
from app.people.permissions import access
from app.platform.errors import Conflict, Invalid
from app.platform.web.htmx import is_htmx, render

bp = Blueprint("programs", __name__)


def _actor():
    return current_user._get_current_object()


@bp.route("/programs")
@access("program.manage")
def index():
    query = ProgramQuery.from_args(request.args)
    return render(
        "programs/index.html",
        "programs/_rows.html",
        results=svc.list_programs(query),
        query=query,
    )


@bp.route("/programs/new", methods=["GET", "POST"])
@access("program.manage")
def new():
    form = ProgramForm()
    if form.validate_on_submit():
        try:
            program = svc.create_program(form.to_data(), _actor())
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash(f"Program {program.code} created; now add its courses.", "success")
            return redirect(url_for(".edit", program_id=program.id))
    status = 422 if form.is_submitted() else 200
    return render_template("programs/new.html", form=form), status


def _add_form(program, form: AddCourseForm | None = None) -> AddCourseForm:
    form = form or AddCourseForm(formdata=None)
    choices = svc.course_choices(exclude=svc.course_ids(program))
    form.course_id.choices = [("", "—")] + [(str(i), label) for i, label in choices]
    return form


def _edit_page(program, form, status: int = 200):
    page = render_template(
        "programs/edit.html",
        program=program,
        form=form,
        add_form=_add_form(program),
        action_form=ActionForm(formdata=None),
    )
    return page, status


@bp.route("/programs/<int:program_id>", methods=["GET", "POST"])
@access("program.manage")
def edit(program_id: int):
    program = svc.get_program(program_id)
    form = ProgramForm(obj=program)
    if form.validate_on_submit():
        try:
            program = svc.update_program(program.id, form.to_data(), _actor())
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash("Program saved.", "success")
            return redirect(url_for(".edit", program_id=program.id))
    return _edit_page(program, form, 422 if form.is_submitted() else 200)


def _courses_changed(program_id: int, message: str | None = None, add_form=None):
    """The course list fragment for htmx, or back to the edit page for a plain form post."""
    if not is_htmx():
        if message:
            flash(message, "success")
        return redirect(url_for(".edit", program_id=program_id, _anchor="courses"))
    program = svc.get_program(program_id)
    return render(
        "programs/edit.html",
        "programs/_courses.html",
        program=program,
        add_form=_add_form(program, add_form),
        action_form=ActionForm(formdata=None),
    )


@bp.route("/programs/<int:program_id>/courses", methods=["POST"])
@access("program.manage")
def add_course(program_id: int):
    add_form = AddCourseForm()
    if add_form.validate_on_submit():
        try:
            svc.add_program_course(program_id, add_form.course_id.data, _actor())
        except Invalid as exc:
            if not is_htmx():
                flash(" ".join(m for ms in exc.errors.values() for m in ms), "error")
            add_form.apply_errors(exc.errors, AddCourseForm.ALIASES)
            return _courses_changed(program_id, add_form=add_form)
    return _courses_changed(program_id, "Course added.", AddCourseForm(formdata=None))


@bp.route("/programs/<int:program_id>/courses/<int:course_id>/move", methods=["POST"])
@access("program.manage")
def move_course(program_id: int, course_id: int):
    if ActionForm().validate_on_submit():
        svc.move_program_course(program_id, course_id, request.form.get("direction", ""), _actor())
    return _courses_changed(program_id)


@bp.route("/programs/<int:program_id>/courses/<int:course_id>/remove", methods=["POST"])
@access("program.manage")
def remove_course(program_id: int, course_id: int):
    if ActionForm().validate_on_submit():
        svc.remove_program_course(program_id, course_id, _actor())
    return _courses_changed(program_id, "Course removed.")


@bp.route("/programs/<int:program_id>/delete", methods=["POST"])
@access("program.manage")
def delete(program_id: int):
    if ActionForm().validate_on_submit():
        try:
            svc.delete_program(program_id, _actor())
        except Conflict as exc:
            flash(exc.detail, "error")
            return redirect(url_for(".edit", program_id=program_id))
        flash("Program deleted.", "success")
    return redirect(url_for(".index"))
