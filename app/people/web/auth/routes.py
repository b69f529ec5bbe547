"""Sign in and sign out."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.people import auth
from app.people.permissions import LOGIN, PUBLIC, access
from app.people.web.auth.forms import LoginForm, PasswordChangeForm
from app.platform.errors import Invalid, RateLimited

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirects)."""
    if not target:
        return url_for("main.home")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return url_for("main.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
@access(PUBLIC)
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = auth.authenticate(form.email.data, form.password.data, request.remote_addr)
        except RateLimited as exc:
            form.form_errors.append(exc.detail)
            headers = {"Retry-After": str(exc.retry_after)}
            return render_template("auth/login.html", form=form), 429, headers
        if user is not None:
            session.clear()  # a fresh session at sign-in: no fixation
            session["sid"] = auth.start_login_session(
                user, request.remote_addr, request.headers.get("User-Agent")
            )
            # The absolute lifetime counts from here, in real time (auth_session).
            session["signed_in_at"] = int(time.time())
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        form.form_errors.append("Email or password is not correct.")
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@access(LOGIN)
def logout():
    auth.end_login_session(session.get("sid"))
    logout_user()
    session.clear()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@access(LOGIN)
def change_password():
    form = PasswordChangeForm()
    status = 200
    if form.validate_on_submit():
        try:
            auth.change_own_password(
                current_user,
                form.current_password.data,
                form.new_password.data,
                form.confirm_password.data,
                request.remote_addr,
                keep_token=session.get("sid"),
            )
        except RateLimited as exc:
            form.form_errors.append(exc.detail)
            status = 429
        except Invalid as exc:
            form.apply_errors(exc.errors)
            status = 422
        else:
            flash("Your password has been changed. You were signed out everywhere else.", "success")
            return redirect(safe_next(request.args.get("next")))
    elif form.is_submitted():
        status = 400
    return render_template("auth/password.html", form=form), status
