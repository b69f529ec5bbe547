"""/api/v1/training/reports: compliance summary, overdue and expiring lists.

The same services as the compliance pages; managers see their direct reports only.
OPENAPI_PATHS and OPENAPI_SCHEMAS join the API's OpenAPI document (app.api.openapi).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request

from app.api import bp, openapi, page_body
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import problem as _problem
from app.api.openapi_parts import query_param as _query
from app.compliance import gaps, reports
from app.compliance.engine import viewer_scope
from app.compliance.statuses import Scope
from app.platform.errors import Invalid
from app.platform.inputs import to_id
from app.platform.pagination import clamp

BASE = "/v1/training/reports"
_UNIT_ARGS = ("department_id", "team_id", "job_role_id")


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _scope() -> Scope:
    """The caller's scope narrowed by optional department_id/team_id/job_role_id. Raises Invalid."""
    values: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for name in _UNIT_ARGS:
        number = to_id(errors, name, request.args.get(name))
        if number is not None:
            values[name] = number
    if errors:
        raise Invalid("Some filters are not valid.", errors)
    return viewer_scope(current_actor(), Scope(**values))


def _counts_json(counts: reports.Counts) -> dict[str, Any]:
    return {
        "applicable": counts.applicable,
        "compliant": counts.ok,
        "percent": counts.percent,
        "by_status": dict(counts.by_status),
    }


def _gap_json(row: gaps.GapRow, days_key: str) -> dict[str, Any]:
    return {
        "user_id": row.user_id,
        "user_name": row.name,
        "user_email": row.email,
        "department": row.department,
        "requirement_id": row.requirement_id,
        "target_code": row.target_code,
        "target_title": row.target_title,
        "status": row.status,
        "due_date": _day(row.due_date),
        "valid_until": _day(row.valid_until),
        days_key: row.days,
    }


@bp.get(f"{BASE}/compliance")
@api_access("compliance.view")
def compliance_summary():
    by = request.args.get("by", "department")
    on = reports.today()
    rows = reports.summary(on, by, _scope())
    return {
        "on": on.isoformat(),
        "by": by,
        "items": [{"id": u.unit_id, "name": u.name, **_counts_json(u)} for u in rows],
        "total": _counts_json(reports.overall(rows)),
    }


@bp.get(f"{BASE}/overdue")
@api_access("compliance.view")
def overdue_report():
    page, per_page = clamp(request.args.get("page"), request.args.get("per_page"))
    on = reports.today()
    found = gaps.overdue(on, _scope(), page, per_page)
    items = [_gap_json(r, "days_late") for r in found.items]
    return page_body(found, items, on=on.isoformat())


@bp.get(f"{BASE}/expiring")
@api_access("compliance.view")
def expiring_report():
    days = gaps.check_days(request.args.get("days"))
    page, per_page = clamp(request.args.get("page"), request.args.get("per_page"))
    on = reports.today()
    found = gaps.expiring(on, days, _scope(), page, per_page)
    items = [_gap_json(r, "days_left") for r in found.items]
    return page_body(found, items, on=on.isoformat(), days=days)


# --- OpenAPI ------------------------------------------------------------------------------------


def _ok(schema: str, description: str, paged: bool = False) -> dict:
    out = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if paged:
        out["headers"] = {
            "Link": {"schema": {"type": "string"}, "description": "RFC 8288 first/prev/next/last."}
        }
    return out


_STD = {
    "401": _problem("No valid token and no session."),
    "403": _problem("Role or token scope does not allow this."),
}
_ACCESS = (
    "Needs `compliance.view` (admin, HR, QA, manager) and the `read` scope. Managers see "
    "their direct reports only; HR, QA and admins see everyone."
)
_UNIT_PARAMS = [
    _query("department_id", {"type": "integer"}, "Only people of this department."),
    _query("team_id", {"type": "integer"}, "Only people of this team."),
    _query("job_role_id", {"type": "integer"}, "Only people with this job role."),
]
_PAGE_PARAMS = [
    _query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number."),
    _query(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "Page size; larger values are clamped to 100.",
    ),
]
_STATUS_ENUM = {"type": "string", "enum": list(reports.STATUSES)}
_DATE_OR_NULL = {"type": ["string", "null"], "format": "date"}

OPENAPI_PATHS: dict = {
    "/api/v1/training/reports/compliance": {
        "get": {
            "operationId": "getComplianceSummary",
            "summary": "% compliant by department or job role",
            "description": (
                f"{_ACCESS} Counts every applicable (person, requirement) pair as of today; "
                "`compliant` counts the ones met (trained and unexpired, or waived)."
            ),
            "parameters": [
                _query(
                    "by",
                    {"type": "string", "enum": list(reports.BY), "default": "department"},
                    "Group by department or job role.",
                ),
                *_UNIT_PARAMS,
            ],
            "responses": {
                "200": _ok("ComplianceSummary", "One row per unit, and the total."),
                **_STD,
                "422": _problem("Unknown `by`, or a filter that is not a whole number."),
            },
        }
    },
    "/api/v1/training/reports/overdue": {
        "get": {
            "operationId": "listOverdue",
            "summary": "Requirements people are late on",
            "description": (
                f"{_ACCESS} Overdue (past the due date, never done) and expired (the completion "
                "lapsed, grace period included), most late first."
            ),
            "parameters": [*_UNIT_PARAMS, *_PAGE_PARAMS],
            "responses": {
                "200": _ok("OverduePage", "A page of late requirements.", paged=True),
                **_STD,
                "422": _problem("A filter that is not a whole number."),
            },
        }
    },
    "/api/v1/training/reports/expiring": {
        "get": {
            "operationId": "listExpiring",
            "summary": "Compliance that runs out within N days",
            "description": (
                f"{_ACCESS} Met requirements whose validity ends within `days` (people in their "
                "grace period first, with negative `days_left`), soonest first; waived ones are "
                "left out."
            ),
            "parameters": [
                _query(
                    "days",
                    {"type": "integer", "minimum": 1, "maximum": 365, "default": 30},
                    "Horizon in days.",
                ),
                *_UNIT_PARAMS,
                *_PAGE_PARAMS,
            ],
            "responses": {
                "200": _ok("ExpiringPage", "A page of expiring requirements.", paged=True),
                **_STD,
                "422": _problem("`days` outside 1..365, or a filter that is not a whole number."),
            },
        }
    },
}


def _counts_schema(extra: dict | None = None) -> dict:
    return {
        "type": "object",
        "properties": {
            **(extra or {}),
            "applicable": {"type": "integer"},
            "compliant": {"type": "integer"},
            "percent": {
                "type": ["integer", "null"],
                "description": "Whole percent, rounded down; null when nothing applies.",
            },
            "by_status": {
                "type": "object",
                "properties": {s: {"type": "integer"} for s in reports.STATUSES},
            },
        },
        "required": ["applicable", "compliant", "percent", "by_status"],
    }


def _gap_schema(days_key: str, description: str) -> dict:
    return {
        "type": "object",
        "properties": {
            "user_id": {"type": "integer"},
            "user_name": {"type": "string"},
            "user_email": {"type": "string"},
            "department": {"type": ["string", "null"]},
            "requirement_id": {"type": "integer"},
            "target_code": {"type": "string"},
            "target_title": {"type": "string"},
            "status": _STATUS_ENUM,
            "due_date": _DATE_OR_NULL,
            "valid_until": _DATE_OR_NULL,
            days_key: {"type": "integer", "description": description},
        },
        "required": ["user_id", "requirement_id", "status", days_key],
    }


def _page_schema(item: str, extra: dict) -> dict:
    return {
        "type": "object",
        "properties": {
            **extra,
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "pages": {"type": "integer"},
        },
        "required": ["items", "page", "per_page", "total", "pages"],
    }


OPENAPI_SCHEMAS: dict = {
    "ComplianceCounts": _counts_schema(),
    "ComplianceUnit": _counts_schema(
        {
            "id": {"type": ["integer", "null"], "description": "null: people without one."},
            "name": {"type": "string"},
        }
    ),
    "ComplianceSummary": {
        "type": "object",
        "properties": {
            "on": {"type": "string", "format": "date"},
            "by": {"type": "string", "enum": list(reports.BY)},
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/ComplianceUnit"}},
            "total": {"$ref": "#/components/schemas/ComplianceCounts"},
        },
        "required": ["on", "by", "items", "total"],
    },
    "OverdueItem": _gap_schema("days_late", "Days since the due date (or the expiry)."),
    "ExpiringItem": _gap_schema("days_left", "Days until `valid_until` (< 0: in grace)."),
    "OverduePage": _page_schema("OverdueItem", {"on": {"type": "string", "format": "date"}}),
    "ExpiringPage": _page_schema(
        "ExpiringItem",
        {"on": {"type": "string", "format": "date"}, "days": {"type": "integer"}},
    ),
}

openapi.register(OPENAPI_PATHS, OPENAPI_SCHEMAS)
