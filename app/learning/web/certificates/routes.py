"""CertificationBadge pages: my certificates, one certificate, its PDF, public verification,
the trainer/HR pages to issue and revoke by hand, and QA's list of back-dated manual
certificates pending approval with its e-signed decisions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.audit.signatures import manifestations_for
from app.learning.certificates import (
    backdate_limit,
    certificate_issuance,
    certificate_status,
    decide_certificate,
    find_person,
    get_viewable_certificate,
    issuable_courses,
    issue_certificate_manual,
    list_user_certificates,
    pending_certificates,
    revoke_certificate,
    search_certificates,
    verification_link,
    verify_certificate,
)
from app.learning.web.certificates.forms import DecisionForm, IssueForm, RevokeForm, start_of_day
from app.people.permissions import LOGIN, PUBLIC, access
from app.people.sod import SelfApproval
from app.platform import files
from app.platform.errors import Conflict, Forbidden, Invalid, RateLimited
from app.platform.pagination import clamp
from app.platform.web.htmx import render

bp = Blueprint("certificates", __name__)


@bp.context_processor
def _helpers():
    return {
        "cert_status": certificate_status,
        "cert_issuance": certificate_issuance,
        "verification_link": verification_link,
    }


def _actor():
    return current_user._get_current_object()


@bp.route("/certificates")
@access(LOGIN)
def index():
    return render_template("certificates/index.html", certs=list_user_certificates(current_user.id))


def _detail(cert_id: int, status: int = 200, **extra):
    cert = get_viewable_certificate(cert_id, _actor())
    page = render_template(
        "certificates/detail.html",
        cert=cert,
        form=extra.pop("form", None) or RevokeForm(formdata=None),
        decision_form=extra.pop("decision_form", None) or DecisionForm(formdata=None),
        signatures=manifestations_for("certification", cert.id),
        **extra,
    )
    return page, status


@bp.route("/certificates/<int:cert_id>")
@access(LOGIN)
def detail(cert_id: int):
    return _detail(cert_id)


@bp.route("/certificates/<int:cert_id>/pdf")
@access(LOGIN)
def pdf(cert_id: int):
    cert = get_viewable_certificate(cert_id, _actor())
    if cert.approval_status in ("pending", "rejected"):
        abort(404, f"This certificate is not valid ({cert.approval_status}), so it has no PDF.")
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
    sign_errors, status = None, 0
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
        except SelfApproval as exc:
            form.person.errors = [*form.person.errors, exc.detail]
            status = 403
        except RateLimited as exc:
            form.form_errors.append(exc.detail)
        else:
            if cert.approval_status == "pending":
                flash(
                    f"Certificate {cert.number} is dated before {backdate_limit().isoformat()}: "
                    "it waits for QA's approval and is not valid until then.",
                    "warning",
                )
            else:
                flash(f"Certificate {cert.number} issued to {cert.user.name}.", "success")
            return redirect(url_for("certificates.detail", cert_id=cert.id))
    status = status or (422 if form.is_submitted() else 200)
    page = render_template(
        "certificates/issue.html", form=form, sign_errors=sign_errors, limit=backdate_limit()
    )
    return page, status


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
    return _detail(cert_id, 422, form=form)


@bp.route("/certificates/pending")
@access("certificate.approve")
def pending():
    page, per_page = clamp(request.args.get("page"), request.args.get("per_page"))
    return render(
        "certificates/pending.html",
        "certificates/_pending_rows.html",
        results=pending_certificates(page, per_page),
    )


@bp.route("/certificates/<int:cert_id>/decide", methods=["POST"])
@access("certificate.approve")
def decide(cert_id: int):
    """QA's signed approval or rejection; errors show on the certificate's page."""
    form = DecisionForm()
    if not form.validate_on_submit():
        return redirect(url_for("certificates.detail", cert_id=cert_id))
    try:
        cert = decide_certificate(
            cert_id,
            request.form.get("decision", ""),
            form.note.data,
            _actor(),
            request.form.get("signature_password"),
        )
    except Invalid as exc:
        form.apply_errors({k: v for k, v in exc.errors.items() if k != "password"})
        return _detail(cert_id, 422, decision_form=form, sign_errors=exc.errors.get("password"))
    except (Forbidden, RateLimited) as exc:
        form.form_errors.append(exc.detail)
        return _detail(cert_id, exc.status, decision_form=form)
    except Conflict as exc:
        flash(exc.detail, "error")
        return redirect(url_for("certificates.detail", cert_id=cert_id))
    flash(f"Certificate {cert.number} {cert.approval_status}.", "success")
    return redirect(url_for("certificates.pending"))
