"""Browse and export the audit trail (admin, QA)."""

from flask import Blueprint, Response, request

from app.permissions import access
from app.services import audit
from app.services.pagination import clamp
from app.web.htmx import render

bp = Blueprint("audit", __name__, url_prefix="/audit")

ACTIONS = ("create", "update", "delete", "grant", "revoke", "import", "sign")


@bp.route("/")
@access("audit.view")
def index():
    flt = audit.parse_audit_filter(request.args)
    page, per_page = clamp(request.args.get("page", 1), request.args.get("per_page", 50), 50)
    result = audit.list_audit(flt, page, per_page)
    return render(
        "audit/index.html",
        "audit/_rows.html",
        result=result,
        flt=flt,
        entities=audit.audit_entities(),
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
