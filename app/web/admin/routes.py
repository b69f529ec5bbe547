"""Admin pages: people, roles, departments, teams, job roles, CSV import, API tokens."""

from flask import Blueprint, render_template

from app.permissions import access

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@access("user.view")
def users():
    return render_template("error.html", status=200, title="People", detail="Coming soon")
