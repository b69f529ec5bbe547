"""Employee training record: the page, its PDF and CSV, and the signed-in person's shortcut."""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, url_for
from flask_login import current_user

from app.gxp.employee_record import SIGNATURES_NONE, EmployeeRecord, employee_record, record_csv
from app.gxp.employee_record_pdf import render_record_pdf
from app.learning.enrollments import visible_user
from app.people.permissions import access

bp = Blueprint("records", __name__)


def _record(user_id: int) -> EmployeeRecord:
    """The record of a person the signed-in user may read (403/404 as visible_user says)."""
    person = visible_user(current_user._get_current_object(), user_id)
    return employee_record(person.id)


def _download(body: bytes | str, mimetype: str, filename: str):
    response = make_response(body)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/people/<int:user_id>/record")
@access("records.view")  # then: oneself, one's direct reports, or HR/QA/admin
def person(user_id: int):
    return render_template(
        "records/person.html", record=_record(user_id), signatures_none=SIGNATURES_NONE
    )


@bp.route("/people/<int:user_id>/record.pdf")
@access("records.view")
def person_pdf(user_id: int):
    record = _record(user_id)
    return _download(render_record_pdf(record), "application/pdf", record.filename("pdf"))


@bp.route("/people/<int:user_id>/record.csv")
@access("records.view")
def person_csv(user_id: int):
    record = _record(user_id)
    return _download(record_csv(record), "text/csv", record.filename("csv"))


@bp.route("/me/record")
@access("records.view")
def mine():
    return redirect(url_for("records.person", user_id=current_user.id))
