"""CertificationBadge pages: my certificates, one certificate, its PDF, public verification,
and the trainer/HR pages to issue and revoke by hand."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.audit.signatures import manifestations_for
from app.learning.certificates import (
    certificate_status,
    find_person,
    get_viewable_certificate,
    issuable_courses,
    issue_certificate_manual,
    list_user_certificates,
    revoke_certificate,
    search_certificates,
    verification_link,
    verify_certificate,
)
from app.learning.web.certificates.forms import IssueForm, RevokeForm, start_of_day
from app.people.permissions import LOGIN, PUBLIC, access
from app.platform import files
from app.platform.errors import Conflict, Invalid, RateLimited
from app.platform.pagination import clamp
from app.platform.web.htmx import render

bp = Blueprint("certificates", __name__)


@bp.context_processor
def _helpers():
    return {"cert_status": certificate_status, "verification_link": verification_link}


def _actor():
    return current_user._get_current_object()


@bp.route("/certificates")
@access(LOGIN)
def index():
    return render_template("certificates/index.html", certs=list_user_certificates(current_user.id))


@bp.route("/certificates/<int:cert_id>")
@access(LOGIN)
def detail(cert_id: int):
    cert = get_viewable_certificate(cert_id, _actor())
    return render_template(
        "certificates/detail.html",
        cert=cert,
        form=RevokeForm(),
        signatures=manifestations_for("certification", cert.id),
    )


@bp.route("/certificates/<int:cert_id>/pdf")
@access(LOGIN)
def pdf(cert_id: int):
    cert = get_viewable_certificate(cert_id, _actor())
    if cert.file is None:
        abort(404, "The PDF of this certificate is not ready yet. Try again in a minute.")
    return redirect(files.download_url(cert.file))


@bp.route("/verify/<code>")
@access(PUBLIC)  # anyone holding the code (printed on the certificate) may check it
def verify(code: str):
    facts = verify_certificate(code)
    resp = render_template("certificates/verify.html", facts=facts)
    headers = {"X-Robots-Tag": "noindex", "Cache-Control": "no-store"}
    return resp, (200 if facts else 404), headers


@bp.route("/certificates/manage")
@access("certificate.manage")
def manage():
    page, per_page = clamp(request.args.get("page"), request.args.get("per_page"))
    q = request.args.get("q", "")
    results = search_certificates(q, page, per_page)
    return render(
        "certificates/manage.html", "certificates/_manage_rows.html", results=results, q=q
    )


@bp.route("/certificates/issue", methods=["GET", "POST"])
@access("certificate.issue")
def issue():
    form = IssueForm(person=request.args.get("email", ""))
    form.course_id.choices = issuable_courses()
    sign_errors = None
    if form.validate_on_submit():
        try:
            person = find_person(form.person.data)
            cert = issue_certificate_manual(
                person.id,
                form.course_id.data,
                _actor(),
                form.reason.data,
                issued_at=start_of_day(form.issued_on.data),
                expires_at=start_of_day(form.expires_on.data),
                password=request.form.get("signature_password"),
            )
        except Invalid as exc:
            sign_errors = exc.errors.get("password")
            form.apply_errors(
                {k: v for k, v in exc.errors.items() if k != "password"}, IssueForm.ALIASES
            )
        except RateLimited as exc:
            form.form_errors.append(exc.detail)
        else:
            flash(f"Certificate {cert.number} issued to {cert.user.name}.", "success")
            return redirect(url_for("certificates.detail", cert_id=cert.id))
    status = 422 if form.is_submitted() else 200
    return render_template("certificates/issue.html", form=form, sign_errors=sign_errors), status


@bp.route("/certificates/<int:cert_id>/revoke", methods=["POST"])
@access("certificate.revoke")
def revoke(cert_id: int):
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            cert = revoke_certificate(cert_id, _actor(), form.reason.data)
        except Invalid as exc:
            form.apply_errors(exc.errors)
        except Conflict as exc:
            flash(exc.detail, "error")
            return redirect(url_for("certificates.detail", cert_id=cert_id))
        else:
            flash(f"Certificate {cert.number} revoked.", "success")
            return redirect(url_for("certificates.detail", cert_id=cert_id))
    cert = get_viewable_certificate(cert_id, _actor())
    return render_template("certificates/detail.html", cert=cert, form=form), 422
