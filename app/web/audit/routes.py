"""Browse the audit trail."""

from flask import Blueprint, render_template

from app.permissions import access

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@access("audit.view")
def index():
    return render_template("error.html", status=200, title="Audit", detail="Coming soon")
