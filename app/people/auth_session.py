"""Bind Flask-Login to server-side login sessions, the idle timeout and the absolute lifetime."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from flask import (
    Flask,
    Response,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_login import current_user
from itsdangerous import BadSignature

from app.extensions import login_manager
from app.people import auth

# An unchanged session cookie is re-signed (pushing the idle timeout back) at most this often,
# not on every request: signing and sending it is work on the busiest pages, and the timeout
# only moves by this much. Never more than a thirtieth of the timeout itself.
REFRESH_AT_MOST_EVERY = timedelta(seconds=60)


class IdleSession(SecureCookieSession):
    """A signed-cookie session that knows when its cookie was signed."""

    signed_at: datetime | None = None


def _over_https() -> bool:
    return has_request_context() and request.is_secure


class IdleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, re-sent when changed or when the cookie is getting old.

    Served over HTTPS (directly, or behind a trusted proxy that says so), the cookie is
    `__Host-`-prefixed and Secure whatever the mode: the browser then refuses it from plain HTTP
    and from any other (sub)domain, so a sibling site cannot plant or read it.
    """

    session_class = IdleSession

    def get_cookie_name(self, app: Flask) -> str:
        name = super().get_cookie_name(app)
        return f"__Host-{name}" if _over_https() else name

    def get_cookie_secure(self, app: Flask) -> bool:
        return _over_https() or super().get_cookie_secure(app)

    def get_cookie_domain(self, app: Flask) -> str | None:
        return None if _over_https() else super().get_cookie_domain(app)

    def get_cookie_path(self, app: Flask) -> str:
        return "/" if _over_https() else super().get_cookie_path(app)

    def open_session(self, app: Flask, request) -> IdleSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        opened = self.session_class(data)
        opened.signed_at = signed_at
        return opened

    def should_set_cookie(self, app: Flask, session: IdleSession) -> bool:
        if session.modified:
            return True
        if not (session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]):
            return False
        if session.signed_at is None:
            return True
        every = min(REFRESH_AT_MOST_EVERY, app.permanent_session_lifetime / 30)
        # The cookie's timestamp is itsdangerous's, in real time: not the business clock.
        return datetime.now(UTC) - session.signed_at >= every


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # our server-side sessions do the real work
    app.session_interface = IdleSessionInterface()

    @login_manager.user_loader
    def load_user(user_id: str):
        return auth.load_session_user(user_id, session.get("sid"))

    @app.before_request
    def end_session_past_its_lifetime():
        # However active, a session ends SESSION_ABSOLUTE_LIFETIME after sign-in. Measured in
        # real time from the instant the login view stored in the signed cookie, like the idle
        # timeout (the business clock is the records' time, not the wire's).
        sid = session.get("sid")
        if not sid or request.endpoint == "static":
            return None
        lifetime = app.config["SESSION_ABSOLUTE_LIFETIME"]
        started = session.get("signed_in_at")
        if isinstance(started, int | float) and time.time() - started < lifetime.total_seconds():
            return None
        auth.end_login_session(sid)
        session.clear()
        g.session_ended = SESSION_ENDED.format(lifetime=_duration(lifetime))
        if request.blueprint == "api" or request.endpoint == "auth.login":
            return None  # the API answers 401 saying so; the sign-in page just shows itself
        flash(g.session_ended, "info")
        target = url_for("auth.login", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            return Response(status=204, headers={"HX-Redirect": target})
        return redirect(target)

    @app.before_request
    def keep_session_permanent():
        # Permanent sessions expire after PERMANENT_SESSION_LIFETIME of inactivity. Setting the
        # flag marks the session changed (a new cookie), so only set it when it is not set yet.
        if not session.permanent:
            session.permanent = True

    @app.before_request
    def require_password_change():
        # Accounts whose password an admin chose may do nothing else until they pick their own.
        if request.blueprint == "api" or request.endpoint in _ALLOWED_BEFORE_CHANGE:
            return None
        if not (current_user.is_authenticated and current_user.must_change_password):
            return None
        target = url_for("auth.change_password", next=request.full_path.rstrip("?"))
        if request.headers.get("HX-Request"):
            return Response(status=204, headers={"HX-Redirect": target})
        flash("Choose your own password before you go on.", "info")
        return redirect(target)


_ALLOWED_BEFORE_CHANGE = {"auth.change_password", "auth.logout", "auth.login", "static", None}

SESSION_ENDED = (
    "You were signed out: a session lasts {lifetime} from sign-in. Please sign in again."
)


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
