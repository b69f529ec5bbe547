"""The training calendar (month, week, list) and iCalendar downloads and feeds."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.models import Course, TrainingSession, User, UserRole
from app.permissions import LOGIN, PUBLIC, access
from app.services import ical
from app.services.calendar import VIEWS, CalendarFilter, build_calendar
from app.web.htmx import render
from app.web.waivers.forms import ActionForm

bp = Blueprint("calendar", __name__)


def _choices():
    courses = db.session.execute(
        select(Course.id, Course.title)
        .where(Course.id.in_(select(TrainingSession.course_id).distinct()))
        .order_by(Course.title)
    ).all()
    instructors = db.session.execute(
        select(User.id, User.name)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "trainer", User.active.is_(True))
        .order_by(User.name)
    ).all()
    return courses, instructors


@bp.route("/calendar")
@access(LOGIN)
def index():
    flt = CalendarFilter.from_args(request.args)
    view = build_calendar(flt, current_user)
    courses, instructors = _choices()
    return render(
        "calendar/index.html",
        "calendar/_calendar.html",
        cal=view,
        views=VIEWS,
        courses=courses,
        instructors=instructors,
        feed=ical.current_feed(current_user.id),
        feed_url=None,
        form=ActionForm(),
    )


def _ics(body: bytes, filename: str) -> Response:
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-cache",
        },
    )


@bp.route("/calendar/sessions/<int:session_id>.ics")
@access(LOGIN)
def session_ics(session_id: int):
    session = db.session.get(TrainingSession, session_id)
    if session is None:
        abort(404)
    return _ics(ical.session_ics(session), f"session-{session.id}.ics")


@bp.route("/calendar/feed", methods=["POST"])
@access(LOGIN)
def new_feed():
    if not ActionForm().validate_on_submit():
        abort(400)
    token = ical.new_feed_token(current_user)
    url = url_for("calendar.feed", token=token, _external=True)
    flt = CalendarFilter.from_args(request.args)
    courses, instructors = _choices()
    return render_template(
        "calendar/index.html",
        cal=build_calendar(flt, current_user),
        views=VIEWS,
        courses=courses,
        instructors=instructors,
        feed=ical.current_feed(current_user.id),
        feed_url=url,
        form=ActionForm(formdata=None),
    )


@bp.route("/calendar/feed/revoke", methods=["POST"])
@access(LOGIN)
def revoke_feed():
    if not ActionForm().validate_on_submit():
        abort(400)
    if ical.revoke_feeds(current_user.id):
        flash("Your calendar subscription link no longer works.", "success")
    return redirect(url_for(".index"))


@bp.route("/calendar/feed/<token>.ics")
@access(PUBLIC)  # calendar apps cannot sign in: the secret in the URL is the credential
def feed(token: str):
    user = ical.user_for_feed(token)
    if user is None:
        abort(404)
    return _ics(ical.feed_ics(user), "cadre-training.ics")
