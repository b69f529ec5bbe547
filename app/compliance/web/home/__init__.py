"""Home: the signed-in landing page, which is the TrainingDashboard."""

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from app.compliance.gaps import manager_panel
from app.learning.training_records import training_dashboard
from app.people.permissions import LOGIN, PUBLIC, access

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
    user = current_user._get_current_object()
    dashboard = training_dashboard(user)
    return render_template(
        "main/home.html",
        mine=dashboard.mine,
        team=dashboard.team,
        team_compliance=manager_panel(user),
    )


@bp.route("/healthz")
@access(PUBLIC)
def healthz():
    return {"status": "ok"}
