"""Admin page for API tokens."""

from flask import Blueprint, render_template

from app.permissions import access

bp = Blueprint("tokens", __name__, url_prefix="/admin/tokens")


@bp.route("/")
@access("token.manage")
def index():
    return render_template("error.html", status=200, title="API tokens", detail="Coming soon")
