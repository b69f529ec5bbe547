"""Course catalog, course detail, and trainer authoring pages."""

from flask import Blueprint, render_template

from app.permissions import access

bp = Blueprint("courses", __name__)


@bp.route("/courses")
@access("catalog.view")
def catalog():
    return render_template("error.html", status=200, title="Catalog", detail="Coming soon")


@bp.route("/authoring/courses")
@access("course.manage")
def manage():
    return render_template("error.html", status=200, title="Authoring", detail="Coming soon")
