"""Notification centre: the nav badge, the list, mark read, email preferences, unsubscribe."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import csrf
from app.notifications import notify as svc
from app.notifications import preferences as prefs
from app.notifications.web.forms import PreferencesForm
from app.people.permissions import LOGIN, PUBLIC, access
from app.platform.errors import Invalid, NotFound
from app.platform.pagination import clamp
from app.platform.web.htmx import is_htmx, render

bp = Blueprint("notifications", __name__)

# CSRF: every POST here is checked by the app-wide CSRFProtect before the view runs.
# htmx stops polling an element whose poll answers 286.
STOP_POLLING = 286


@bp.app_template_global()
def notification_unread_count() -> int:
    """The signed-in person's unread count, for the bell in the nav (0 when signed out).

    Every page renders it, error pages included: a database failure shows a bell without a
    number rather than breaking the page that reports the failure.
    """
    if not current_user.is_authenticated:
        return 0
    loaded = current_user.unread_notifications  # counted with the session load, if it ran
    if loaded is not None:
        return loaded
    try:
        return svc.unread_count(current_user.id)
    except SQLAlchemyError:
        return 0


@bp.route("/notifications")
@access(LOGIN)
def index():
    page, per_page = clamp(request.args.get("page"), request.args.get("per_page"))
    return render(
        "notifications/index.html",
        "notifications/_list.html",
        results=svc.list_notifications(current_user.id, page, per_page),
    )


@bp.route("/notifications/badge")
@access(PUBLIC)  # signed out (idle timeout): answers "stop polling" instead of a login page
def badge():
    signed_in = current_user.is_authenticated
    if signed_in and hasattr(session, "signed_at"):
        # A poll is not activity: it must not push the idle timeout back (no cookie refresh).
        session.signed_at = datetime.now(UTC)  # the cookie's time: real, like itsdangerous
    return render_template(
        "notifications/_badge.html",
        unread=notification_unread_count(),  # counted by the session load: one statement
        polling=signed_in,
    ), 200 if signed_in else STOP_POLLING


def _changed(response):
    """Tell the bell (and anything listening) that the unread count moved."""
    response.headers["HX-Trigger"] = "notifications-changed"
    return response


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@access(LOGIN)
def follow(notification_id: int):
    """Open what the notification is about, marking it read (a POST: GETs never write)."""
    return redirect(svc.open_notification(notification_id, current_user.id), code=303)


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@access(LOGIN)
def read(notification_id: int):
    note = svc.mark_read(notification_id, current_user.id)
    if is_htmx():
        return _changed(make_response(render_template("notifications/_item.html", n=note)))
    return redirect(url_for(".index"), code=303)


@bp.route("/notifications/read-all", methods=["POST"])
@access(LOGIN)
def read_all():
    count = svc.mark_all_read(current_user.id)
    flash(f"{count} notification{'' if count == 1 else 's'} marked read.", "success")
    return _changed(redirect(url_for(".index"), code=303))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@access(LOGIN)
def preferences():
    if request.method == "GET":
        form = PreferencesForm.for_preferences(prefs.get_preferences(current_user.id))
        return render_template("notifications/preferences.html", form=form)
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            prefs.update_preferences(current_user.id, form.email_off(), form.daily_digest.data)
        except Invalid as exc:
            form.apply_errors(exc.errors)
        else:
            flash("Email preferences saved.", "success")
            return redirect(url_for(".preferences"), code=303)
    return render_template("notifications/preferences.html", form=form), 422


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@access(PUBLIC)
@csrf.exempt  # one-click unsubscribe (RFC 8058): mail clients POST without a session
def unsubscribe(token: str):
    """GET asks (link scanners must not unsubscribe anyone); POST unsubscribes. The secret
    token in the URL is what a CSRF token would be: a POST without a valid one is refused."""
    try:
        pref = prefs.preference_for_token(token)
    except NotFound:
        status = 400 if request.method == "POST" else 404
        return render_template("notifications/unsubscribe.html", invalid=True), status
    if request.method == "POST":
        prefs.unsubscribe(token)
        return render_template("notifications/unsubscribe.html", done=True, pref=pref)
    return render_template("notifications/unsubscribe.html", pref=pref, token=token)
