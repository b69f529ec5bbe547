"""Browse and export the audit trail (admin, QA)."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.audit import chain as audit_chain
from app.audit import trail as audit
from app.people.permissions import access
from app.platform.pagination import clamp
from app.platform.web.forms import ActionForm
from app.platform.web.htmx import render

bp = Blueprint("audit", __name__, url_prefix="/audit")

ACTIONS = ("create", "update", "delete", "grant", "revoke", "import", "sign", "verify")


@bp.route("/")
@access("audit.view")
def index():
    flt = audit.parse_audit_filter(request.args)
    page, per_page = clamp(request.args.get("page", 1), request.args.get("per_page", 50), 50)
    result = audit.list_audit_entries(flt, page, per_page)
    return render(
        "audit/index.html",
        "audit/_rows.html",
        result=result,
        flt=flt,
        entities=audit.entity_choices(),
        actions=ACTIONS,
    )


@bp.route("/export.csv")
@access("audit.view")
def export():
    flt = audit.parse_audit_filter(request.args)
    body = audit.export_audit_csv(flt)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=audit-trail.csv"},
    )


@bp.route("/chain")
@access("audit.view")
def chain():
    return render_template(
        "audit/chain.html",
        last=audit_chain.last_verification(),
        counts=audit_chain.chain_counts(),
        form=ActionForm(),
    )


@bp.route("/chain/verify", methods=["POST"])
@access("audit.view")
def verify_chain():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    report = audit_chain.verify_and_record(current_user._get_current_object())
    if report.intact:
        flash(f"The audit trail is intact: {report.checked} chained entries verified.", "success")
    else:
        flash(f"The audit trail is not intact: {report.problem}.", "error")
    return redirect(url_for(".chain"))


@bp.route("/history/<entity>/<entity_id>")
@access("audit.view")
def history(entity: str, entity_id: str):
    page, per_page = clamp(request.args.get("page", 1), request.args.get("per_page", 100), 200)
    result = audit.record_history(entity, entity_id, page, per_page)
    return render_template("audit/history.html", result=result, entity=entity, entity_id=entity_id)
