"""The training calendar (month, week, list) and iCalendar downloads and feeds."""

from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select

from app.classroom import ical
from app.classroom.calendar import (
    VIEWS,
    CalendarFilter,
    build_calendar,
    my_session_ids,
    viewer_zone,
)
from app.classroom.models import TrainingSession
from app.extensions import db
from app.learning.models import Course
from app.people.models import User, UserRole
from app.people.permissions import LOGIN, PUBLIC, access
from app.platform import clock
from app.platform.memo import until_records_change
from app.platform.web.forms import ActionForm
from app.platform.web.htmx import is_htmx

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
    viewer = current_user._get_current_object()
    calendar_html = _calendar_html(flt, viewer)
    if is_htmx():  # periods, views and filters swap only the calendar
        response = make_response(calendar_html)
    else:
        response = make_response(_page(flt, viewer, calendar_html, None, ActionForm()))
    response.headers.add("Vary", "HX-Request")
    return response


def _page(flt: CalendarFilter, viewer: User, calendar_html: Markup, feed_url, form) -> str:
    courses, instructors = _choices()
    return render_template(
        "calendar/index.html",
        calendar_html=calendar_html,
        flt=flt,
        zone=viewer_zone(viewer),
        courses=courses,
        instructors=instructors,
        feed=ical.current_feed(viewer.id),
        feed_url=feed_url,
        form=form,
    )


def _calendar_html(flt: CalendarFilter, viewer: User) -> Markup:
    """The period's calendar, shared by everyone in a time zone and rendered once a minute
    until sessions or bookings change; the viewer's own sessions are marked on the copy
    (month and week chips get `cal-mine`, list rows a "booked" badge). "My sessions" is
    per viewer."""
    if flt.mine:
        return _render_calendar(build_calendar(flt, viewer))
    minute = clock.now().replace(second=0, microsecond=0)
    html = str(_shared_grid(flt, viewer_zone(viewer), minute))
    for session_id in my_session_ids(flt, viewer):
        chip = f'<a data-s="{session_id}" class="cal-chip'
        html = html.replace(chip, f"{chip} cal-mine")
        html = html.replace(f"<!--booked:{session_id}-->", ' <span class="badge">booked</span>')
    return Markup(html)  # rendered by our autoescaping template; only our own markup added


@until_records_change
def _shared_grid(flt: CalendarFilter, zone: str, minute: datetime) -> Markup:
    """A grid as nobody in particular sees it at `minute` ("held" and "today" follow time)."""
    return _render_calendar(build_calendar(flt, None, now=minute, zone_name=zone))


def _render_calendar(view) -> Markup:
    return Markup(render_template("calendar/_calendar.html", cal=view, views=VIEWS))


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
    viewer = current_user._get_current_object()
    return _page(flt, viewer, _calendar_html(flt, viewer), url, ActionForm(formdata=None))


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
