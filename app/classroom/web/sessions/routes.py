"""Session pages: the list (with my bookings), create/edit/cancel, booking, attendance, sign-off.

Everything goes through the classroom services (app.classroom.sessions for the reads,
scheduling, booking and attendance for the changes), the same functions the API calls.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.audit.signatures import manifestations_for
from app.classroom import attendance as attendance_svc
from app.classroom import booking as booking_svc
from app.classroom import scheduling as scheduling_svc
from app.classroom import sessions as sessions_svc
from app.classroom.web.sessions.forms import ActionForm, BookForm, CancelForm, SessionForm
from app.people.permissions import access
from app.people.users import timezone_choices
from app.platform.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from app.platform.web.htmx import is_htmx, render

bp = Blueprint("sessions", __name__)


def _actor():
    return current_user._get_current_object()


def _flash_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        flash(warning, "warning")


# --- list ------------------------------------------------------------------------------------


@bp.route("/sessions")
@access("session.view")
def index():
    me = _actor()
    query = sessions_svc.SessionQuery.from_args(request.args, me, upcoming=True)
    return render(
        "sessions/index.html",
        "sessions/_rows.html",
        results=sessions_svc.list_sessions(query, me),
        query=query,
        mine=sessions_svc.my_bookings(me),
        courses=scheduling_svc.course_choices(),
        instructors=scheduling_svc.instructor_choices(),
    )


# --- create and edit -------------------------------------------------------------------------


def _choices(form: SessionForm, course_id: int | None = None) -> SessionForm:
    form.course_id.choices = [("", "—")] + [
        (str(i), label) for i, label in scheduling_svc.course_choices(course_id)
    ]
    form.instructor_ids.choices = [
        (str(i), name) for i, name in scheduling_svc.instructor_choices()
    ]
    form.timezone.choices = [(tz, tz) for tz in timezone_choices()]
    form.eligible_sites.choices = [(site, site) for site in scheduling_svc.site_choices()]
    form.eligible_department_ids.choices = [
        (str(i), label) for i, label in scheduling_svc.department_choices()
    ]
    form.eligible_job_role_ids.choices = [
        (str(i), label) for i, label in scheduling_svc.job_role_choices()
    ]
    form.prerequisite_course_ids.choices = [
        (str(i), label) for i, label in scheduling_svc.course_choices()
    ]
    return form


@bp.route("/sessions/new", methods=["GET", "POST"])
@access("session.manage")
def new():
    me = _actor()
    form = _choices(SessionForm())
    if not form.is_submitted():
        form.timezone.data = me.timezone or "UTC"
        form.course_id.data = request.args.get("course_id", "")
        if me.has_role(*scheduling_svc.INSTRUCTOR_ROLES):
            form.instructor_ids.data = [str(me.id)]
    if form.validate_on_submit():
        try:
            saved = scheduling_svc.create_sessions(form.to_data(series=True), me)
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            count = len(saved.sessions)
            flash(f"{count} sessions scheduled." if count > 1 else "Session scheduled.", "success")
            _flash_warnings(saved.warnings)
            return redirect(url_for(".detail", session_id=saved.session.id))
    status = 422 if form.is_submitted() else 200
    return render_template("sessions/new.html", form=form), status


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@access("session.manage")
def edit(session_id: int):
    session = sessions_svc.get_session(session_id)
    form = _choices(SessionForm.for_session(session), session.course_id)
    if session.status != "scheduled":
        flash(f"This session is {session.status}; it can no longer be changed.", "error")
        return redirect(url_for(".detail", session_id=session_id))
    if form.validate_on_submit():
        try:
            saved = scheduling_svc.update_session(session_id, form.to_data(), _actor())
        except Invalid as exc:
            form.apply_errors(exc.errors)
        except Conflict as exc:
            form.form_errors.append(exc.detail)
        else:
            flash("Session saved.", "success")
            _flash_warnings(saved.warnings)
            return redirect(url_for(".detail", session_id=session_id))
    status = 422 if form.is_submitted() else 200
    return render_template("sessions/edit.html", form=form, session=session), status


@bp.route("/sessions/<int:session_id>/cancel", methods=["POST"])
@access("session.manage")
def cancel(session_id: int):
    form = CancelForm()
    if form.validate_on_submit():
        try:
            scheduling_svc.cancel_session(session_id, form.reason.data, _actor())
        except (Conflict, Invalid) as exc:
            flash(exc.detail, "error")
        else:
            flash("Session cancelled; everyone booked has been told.", "success")
    return redirect(url_for(".detail", session_id=session_id))


# --- detail, booking -------------------------------------------------------------------------


def _detail(session_id: int, status: int = 200, **extra):
    me = _actor()
    detail = sessions_svc.session_detail(session_id, me)
    context = {
        "d": detail,
        "s": detail.session,
        "signatures": manifestations_for("training_session", session_id),
        "action_form": ActionForm(formdata=None),
        "book_form": BookForm(formdata=None),
        "cancel_form": CancelForm(formdata=None),
        "people": (
            booking_svc.bookable_people(me, detail.session)
            if detail.booking_open or detail.may_manage
            else []
        ),
        "sign_errors": None,
        "statement": attendance_svc.sign_off_statement(detail.session),
        **extra,
    }
    return render_template("sessions/detail.html", **context), status


@bp.route("/sessions/<int:session_id>")
@access("session.view")
def detail(session_id: int):
    return _detail(session_id)


@bp.route("/sessions/<int:session_id>/register", methods=["POST"])
@access("session.register")
def register(session_id: int):
    form = BookForm()
    if form.validate_on_submit():
        data = {"person": form.person.data} if form.person.data else None
        try:
            booking = booking_svc.register(session_id, _actor(), data)
        except Invalid as exc:
            form.apply_errors(exc.errors, BookForm.ALIASES)
            return _detail(session_id, 422, book_form=form)
        except (Conflict, Forbidden) as exc:
            flash(exc.detail, "error")
        else:
            reg = booking.registration
            who = "You are" if reg.user_id == current_user.id else f"{reg.user.name} is"
            if reg.status == "registered":
                flash(f"{who} booked.", "success")
            else:
                flash(f"The session is full: {who.lower()} on the waitlist.", "warning")
            _flash_warnings(booking.warnings)
    return redirect(url_for(".detail", session_id=session_id))


@bp.route("/sessions/<int:session_id>/registrations/<int:user_id>/cancel", methods=["POST"])
@access("session.register")
def cancel_registration(session_id: int, user_id: int):
    if ActionForm().validate_on_submit():
        try:
            booking_svc.cancel_registration(session_id, user_id, _actor())
        except (Conflict, Forbidden, NotFound) as exc:
            flash(exc.detail, "error")
        else:
            flash("Booking cancelled.", "success")
    return redirect(url_for(".detail", session_id=session_id))


# --- attendance and sign-off -----------------------------------------------------------------


def _marks() -> dict[str, str]:
    prefix = "attendance-"
    return {k[len(prefix) :]: v for k, v in request.form.items() if k.startswith(prefix)}


@bp.route("/sessions/<int:session_id>/attendance", methods=["POST"])
@access("session.manage")
def attendance(session_id: int):
    errors: list[str] = []
    saved = False
    if ActionForm().validate_on_submit():
        try:
            attendance_svc.mark_attendance(session_id, _marks(), _actor())
            saved = True
        except Invalid as exc:
            errors = [m for ms in exc.errors.values() for m in ms] or [exc.detail]
        except (Conflict, Forbidden) as exc:
            errors = [exc.detail]
    if not is_htmx():
        for e in errors:
            flash(e, "error")
        if saved:
            flash("Attendance saved.", "success")
        return redirect(url_for(".detail", session_id=session_id, _anchor="attendance"))
    detail = sessions_svc.session_detail(session_id, _actor())
    return render_template(
        "sessions/_attendance.html",
        d=detail,
        s=detail.session,
        action_form=ActionForm(formdata=None),
        attendance_errors=errors,
        attendance_saved=saved,
    ), (422 if errors else 200)


@bp.route("/sessions/<int:session_id>/sign-off", methods=["POST"])
@access("session.manage")
def sign_off(session_id: int):
    if not ActionForm().validate_on_submit():
        return redirect(url_for(".detail", session_id=session_id))
    try:
        session = attendance_svc.sign_off(
            session_id,
            _actor(),
            request.form.get("signature_password"),
            _marks() or None,
        )
    except Invalid as exc:
        if "password" in exc.errors:
            return _detail(session_id, 422, sign_errors=exc.errors["password"])
        for messages in exc.errors.values():
            for m in messages:
                flash(m, "error")
    except (Conflict, Forbidden, RateLimited) as exc:
        flash(exc.detail, "error")
    else:
        flash(
            f"Attendance signed off; “{sessions_svc.session_title(session)}” is completed.",
            "success",
        )
    return redirect(url_for(".detail", session_id=session_id))
