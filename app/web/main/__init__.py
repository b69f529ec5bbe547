"""Home: the signed-in landing page."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from app.permissions import LOGIN, PUBLIC, access

bp = Blueprint("main", __name__)


@bp.route("/")
@access(PUBLIC)
def index():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    return redirect(url_for("auth.login"))


@bp.route("/home")
@access(LOGIN)
def home():
    return render_template("main/home.html")


@bp.route("/healthz")
@access(PUBLIC)
def healthz():
    return {"status": "ok"}
