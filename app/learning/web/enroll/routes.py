"""Enrolment pages: enrol yourself from a course page; assign a course to a person or a team."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from app.learning.courses import get_course
from app.learning.enrollments import (
    current_enrollment,
    enroll_person,
    enroll_team,
    enrollable_people,
    enrollable_teams,
)
from app.learning.training_records import enrollment_row
from app.learning.web.enroll.forms import AssignForm
from app.people.permissions import access
from app.platform.errors import Conflict, DomainError, Forbidden, Invalid

bp = Blueprint("enroll", __name__)

PLAYER_ENDPOINT = "player.module"


@bp.app_template_global("url_if")
def url_if(endpoint: str, **values) -> str | None:
    """Build a URL for an endpoint that may not exist yet; None when it does not."""
    if endpoint not in current_app.view_functions:
        return None
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


@bp.app_template_global("my_enrollment")
def my_enrollment(course_id: int):
    """The signed-in person's current enrollment row (with progress) in a course, or None."""
    if not current_user.is_authenticated:
        return None
    enrollment = current_enrollment(current_user.id, course_id)
    return enrollment_row(enrollment.id) if enrollment else None


def continue_url(enrollment_id: int, module_id: int | None, course_id: int) -> str:
    """Where to pick up a course: its next module in the player, else the course page."""
    if module_id is not None:
        url = url_if(PLAYER_ENDPOINT, enrollment_id=enrollment_id, module_id=module_id)
        if url:
            return url
    return url_for("courses.detail", course_id=course_id)


@bp.app_template_global("continue_url")
def _continue_url(row) -> str:
    return continue_url(row.id, row.next_module_id, row.course_id)


def _actor():
    return current_user._get_current_object()


@bp.post("/enroll/courses/<int:course_id>")
@access("records.write")
def self_enroll(course_id: int):
    actor = _actor()
    try:
        enrollment, created = enroll_person(actor, actor.id, course_id)
    except DomainError as exc:
        flash(exc.detail, "error")
        return redirect(url_for("courses.detail", course_id=course_id))
    row = enrollment_row(enrollment.id)
    if created:
        flash(f"You are enrolled in {row.course_title}.", "success")
    else:
        flash(f"You were already enrolled in {row.course_title}.", "info")
    url = url_if(PLAYER_ENDPOINT, enrollment_id=row.id, module_id=row.next_module_id)
    return redirect(url if row.next_module_id and url else url_for("main.home"))


def _assign_page(course, form: AssignForm, status: int = 200):
    actor = _actor()
    q = request.args.get("q", "")
    people = enrollable_people(actor, q)
    teams = enrollable_teams(actor)
    form.user_id.choices = [(p.id, f"{p.name} <{p.email}>") for p in people]
    form.team_id.choices = [(t.id, f"{t.department.name} / {t.name}") for t in teams]
    body = render_template("enroll/assign.html", course=course, form=form, q=q, people=people)
    return body, status


@bp.route("/enroll/courses/<int:course_id>/assign", methods=["GET", "POST"])
@access("enroll.assign")
def assign(course_id: int):
    course = get_course(course_id)
    form = AssignForm()
    if not form.validate_on_submit():
        return _assign_page(course, form, 422 if form.is_submitted() else 200)
    try:
        message = _assign(course, form)
    except (Invalid, Forbidden, Conflict) as exc:
        form.apply_errors(exc.errors or {"__all__": [exc.detail]})
        return _assign_page(course, form, exc.status)
    flash(message, "success")
    return redirect(url_for("enroll.assign", course_id=course.id, q=request.args.get("q") or None))


def _assign(course, form: AssignForm) -> str:
    """Run the chosen enrolment and say what happened. Raises Invalid, Forbidden, Conflict."""
    actor = _actor()
    due = form.due_date.data
    due_text = f", due {due.isoformat()}" if due else ""
    if form.target.data == "team":
        if not form.team_id.data:
            raise Invalid("Choose a team.", {"team_id": ["Choose a team."]})
        counts = enroll_team(form.team_id.data, course.id, actor, due_date=due)
        parts = [f"Enrolled {counts.created} people in {course.title}{due_text}"]
        if counts.already_enrolled:
            parts.append(f"{counts.already_enrolled} already enrolled")
        if counts.not_allowed:
            parts.append(f"{counts.not_allowed} not your direct reports, skipped")
        return "; ".join(parts) + "."
    if not form.user_id.data:
        raise Invalid("Choose a person.", {"user_id": ["Choose a person."]})
    enrollment, created = enroll_person(actor, form.user_id.data, course.id, due_date=due)
    name = enrollment.user.name
    if created:
        return f"Enrolled {name} in {course.title}{due_text}."
    return f"{name} was already enrolled in {course.title}; nothing changed."
