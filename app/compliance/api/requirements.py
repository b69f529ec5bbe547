"""/api/v1/training/competency: the competency matrix rows (CRUD) and each person's gaps.

OPENAPI_PATHS and OPENAPI_SCHEMAS join the API's OpenAPI document (app.api.openapi).
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from app.api import bp, json_object, link_header, openapi
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import json_response as _json
from app.api.openapi_parts import problem as _problem
from app.api.openapi_parts import query_param as _query
from app.compliance import requirements as req_service
from app.compliance.engine import viewer_scope
from app.compliance.models import (
    COMPLIANCE_STATUSES,
    DUE_BASES,
    RECERT_MODES,
    CompetencyRequirement,
)
from app.compliance.statuses import Scope
from app.people.models import RISK_LEVELS
from app.platform import clock
from app.platform.errors import Invalid
from app.platform.inputs import to_date, to_id
from app.platform.pagination import clamp
from app.platform.timefmt import iso_date

COLLECTION = "/v1/training/competency"
ITEM = "/v1/training/competency/<int(max=2147483647):requirement_id>"
GAPS = "/v1/training/competency/gaps"
READ_ONLY = {"id", "scope_kind", "scope_name", "target_kind", "target_code", "target_title"}
READ_ONLY |= {"created_at", "updated_at", "created_by_id"}


def requirement_json(req: CompetencyRequirement) -> dict[str, Any]:
    """The one JSON shape of a competency matrix row."""
    return {
        "id": req.id,
        "scope_kind": req.scope_kind,
        "scope_name": req.scope_name,
        "job_role_id": req.job_role_id,
        "department_id": req.department_id,
        "team_id": req.team_id,
        "target_kind": "course" if req.course_id else "program",
        "target_code": req.target_code,
        "target_title": req.target_title,
        "course_id": req.course_id,
        "curriculum_id": req.curriculum_id,
        "substitutes": [s.course_id for s in req.substitutes],
        "due_days": req.due_days,
        "due_basis": req.due_basis,
        "recert_months": req.recert_months,
        "recert_mode": req.recert_mode,
        "recert_anchor_month": req.recert_anchor_month,
        "recert_window_days": req.recert_window_days,
        "grace_days": req.grace_days,
        "risk_level": req.risk_level,
        "effective_from": iso_date(req.effective_from),
        "effective_to": iso_date(req.effective_to),
        "notes": req.notes,
    }


def _body() -> dict:
    return {k: v for k, v in json_object().items() if k not in READ_ONLY}


def _page_json(page, items: list) -> dict:
    return {
        "items": items,
        "page": page.page,
        "per_page": page.per_page,
        "total": page.total,
        "pages": page.pages,
    }


@bp.get(COLLECTION)
@api_access("compliance.view")
def list_competency():
    page = req_service.list_requirements(req_service.RequirementQuery.from_args(request.args))
    body = _page_json(page, [requirement_json(r) for r in page.items])
    return body, 200, {"Link": link_header(page)}


@bp.post(COLLECTION)
@api_access("compliance.manage")
def create_competency():
    req = req_service.create_requirement(_body(), current_actor())
    location = url_for("api.get_competency", requirement_id=req.id, _external=True)
    return requirement_json(req), 201, {"Location": location}


@bp.get(ITEM)
@api_access("compliance.view")
def get_competency(requirement_id: int):
    return requirement_json(req_service.get_requirement(requirement_id))


@bp.put(ITEM)
@api_access("compliance.manage")
def update_competency(requirement_id: int):
    req = req_service.update_requirement(requirement_id, _body(), current_actor())
    return requirement_json(req)


@bp.delete(ITEM)
@api_access("compliance.manage")
def delete_competency(requirement_id: int):
    req_service.delete_requirement(requirement_id, current_actor())
    return "", 204


@bp.get(GAPS)
@api_access("compliance.view")
def competency_gaps():
    errors: dict[str, list[str]] = {}
    user_id = to_id(errors, "user_id", request.args.get("user_id"))
    department_id = to_id(errors, "department", request.args.get("department"))
    on = to_date(errors, "on", request.args.get("on")) or clock.today()
    if errors:
        raise Invalid("Some query parameters are not valid.", errors)
    page_no, per_page = clamp(request.args.get("page"), request.args.get("per_page"))
    scope = Scope(user_ids=[user_id] if user_id is not None else None, department_id=department_id)
    page = req_service.gaps(on, viewer_scope(current_actor(), scope), page_no, per_page)
    items = [
        {
            "user_id": person.user_id,
            "user_name": person.name,
            "email": person.email,
            "gaps": [
                {
                    "requirement_id": g.requirement_id,
                    "target_kind": g.target_kind,
                    "target_id": g.target_id,
                    "target_code": g.target_code,
                    "target_title": g.target_title,
                    "status": g.status,
                    "due_date": iso_date(g.due_date),
                    "valid_until": iso_date(g.valid_until),
                }
                for g in person.gaps
            ],
        }
        for person in page.items
    ]
    body = {"on": on.isoformat(), **_page_json(page, items)}
    return body, 200, {"Link": link_header(page)}


# --- OpenAPI ---------------------------------------------------------------------------------


_STD = {
    "401": _problem("No valid token and no session."),
    "403": _problem("Role or token scope does not allow this."),
}
_WRITE = {
    "400": _problem("The body is not a JSON object, or the CSRF header is missing."),
    **_STD,
    "422": _problem("Invalid fields; `errors` maps each field to its messages."),
}
_PAGING = [
    _query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number."),
    _query(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
        "Page size; larger values are clamped to 100.",
    ),
]
_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RequirementInput"}}},
}
_ID = {
    "name": "requirement_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647},
}
_NULL_ID = {"type": ["integer", "null"]}
_DATE = {"type": "string", "format": "date"}

OPENAPI_PATHS: dict = {
    "/api/v1/training/competency": {
        "get": {
            "operationId": "listCompetency",
            "summary": "Competency matrix rows",
            "description": (
                "Needs `compliance.view` (admin, HR, QA, manager) and the `read` scope. "
                "A `Link` header (RFC 8288) gives first/prev/next/last."
            ),
            "parameters": [
                _query(
                    "scope_kind",
                    {"type": "string", "enum": ["job_role", "department", "team"]},
                    "Rows scoped to this kind of unit.",
                ),
                _query("scope_id", {"type": "integer"}, "With scope_kind: that unit only."),
                _query("course_id", {"type": "integer"}, "Rows requiring this course."),
                _query("program_id", {"type": "integer"}, "Rows requiring this program."),
                _query("q", {"type": "string"}, "Words in the course or program title or code."),
                _query("active_on", _DATE, "Rows in force on this date."),
                *_PAGING,
            ],
            "responses": {
                "200": {
                    **_json("RequirementPage", "A page of rows."),
                    "headers": {"Link": {"schema": {"type": "string"}}},
                },
                **_STD,
            },
        },
        "post": {
            "operationId": "createCompetency",
            "summary": "Add a matrix row",
            "description": (
                "Needs `compliance.manage` (admin, HR, QA) and the `write` scope. Audited; the "
                "requirement engine then assigns everyone in scope."
            ),
            "requestBody": _BODY,
            "responses": {
                "201": {
                    **_json("Requirement", "Created."),
                    "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                },
                **_WRITE,
            },
        },
    },
    "/api/v1/training/competency/{requirement_id}": {
        "parameters": [_ID],
        "get": {
            "operationId": "getCompetency",
            "summary": "One matrix row",
            "responses": {
                "200": _json("Requirement", "The row."),
                **_STD,
                "404": _problem("No such row."),
            },
        },
        "put": {
            "operationId": "updateCompetency",
            "summary": "Change some fields of a row",
            "description": (
                "Fields not sent keep their value. Sending any scope field replaces the scope, "
                "any target field the target. End a row by setting `effective_to`."
            ),
            "requestBody": _BODY,
            "responses": {
                "200": _json("Requirement", "The changed row."),
                **_WRITE,
                "404": _problem("No such row."),
            },
        },
        "delete": {
            "operationId": "deleteCompetency",
            "summary": "Delete a row nobody was assigned under",
            "responses": {
                "204": {"description": "Deleted."},
                **_STD,
                "404": _problem("No such row."),
                "409": _problem("People were assigned under it: end it via `effective_to`."),
            },
        },
    },
    "/api/v1/training/competency/gaps": {
        "get": {
            "operationId": "listCompetencyGaps",
            "summary": "Each person's unmet requirements",
            "description": (
                "People (by name) with at least one requirement they are not compliant on, each "
                "with those requirements; paginated by person. Needs `compliance.view`; "
                "managers see their direct reports only."
            ),
            "parameters": [
                _query("user_id", {"type": "integer"}, "One person only."),
                _query("department", {"type": "integer"}, "People of this department (id)."),
                _query("on", _DATE, "Status as of this date (default today)."),
                *_PAGING,
            ],
            "responses": {
                "200": {
                    **_json("GapPage", "A page of people with their gaps."),
                    "headers": {"Link": {"schema": {"type": "string"}}},
                },
                **_STD,
                "422": _problem("A query parameter is not valid."),
            },
        }
    },
}

_FIELDS: dict = {
    "job_role_id": _NULL_ID,
    "department_id": _NULL_ID,
    "team_id": _NULL_ID,
    "course_id": _NULL_ID,
    "curriculum_id": {**_NULL_ID, "description": "A program."},
    "substitutes": {
        "type": "array",
        "items": {"type": "integer"},
        "description": "Course ids that meet a course requirement as well.",
    },
    "due_days": {"type": "integer", "minimum": 0, "maximum": 3650},
    "due_basis": {"type": "string", "enum": list(DUE_BASES)},
    "recert_months": {"type": ["integer", "null"], "minimum": 1, "maximum": 120},
    "recert_mode": {"type": "string", "enum": list(RECERT_MODES)},
    "recert_anchor_month": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 12,
        "description": "Required in calendar mode.",
    },
    "recert_window_days": {"type": "integer", "minimum": 0, "maximum": 3650},
    "grace_days": {"type": "integer", "minimum": 0, "maximum": 3650},
    "risk_level": {"type": "string", "enum": list(RISK_LEVELS)},
    "effective_from": _DATE,
    "effective_to": {"type": ["string", "null"], "format": "date"},
    "notes": {"type": "string", "maxLength": 2000},
}

OPENAPI_SCHEMAS: dict = {
    "RequirementInput": {
        "type": "object",
        "description": (
            "Exactly one of job_role_id/department_id/team_id and exactly one of "
            "course_id/curriculum_id. PUT changes the fields sent."
        ),
        "properties": _FIELDS,
    },
    "Requirement": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "scope_kind": {"type": "string", "enum": ["job_role", "department", "team"]},
            "scope_name": {"type": "string"},
            "target_kind": {"type": "string", "enum": ["course", "program"]},
            "target_code": {"type": "string"},
            "target_title": {"type": "string"},
            **_FIELDS,
        },
        "required": ["id", "scope_kind", "target_kind", "due_days", "effective_from"],
    },
    "RequirementPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Requirement"}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "pages": {"type": "integer"},
        },
        "required": ["items", "page", "per_page", "total", "pages"],
    },
    "Gap": {
        "type": "object",
        "properties": {
            "requirement_id": {"type": "integer"},
            "target_kind": {"type": "string", "enum": ["course", "program"]},
            "target_id": {"type": "integer"},
            "target_code": {"type": "string"},
            "target_title": {"type": "string"},
            "status": {
                "type": "string",
                "enum": [s for s in COMPLIANCE_STATUSES if s not in ("compliant", "waived")],
            },
            "due_date": {"type": ["string", "null"], "format": "date"},
            "valid_until": {"type": ["string", "null"], "format": "date"},
        },
        "required": ["requirement_id", "target_kind", "target_id", "status"],
    },
    "GapPage": {
        "type": "object",
        "properties": {
            "on": _DATE,
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "user_id": {"type": "integer"},
                        "user_name": {"type": "string"},
                        "email": {"type": "string"},
                        "gaps": {"type": "array", "items": {"$ref": "#/components/schemas/Gap"}},
                    },
                    "required": ["user_id", "user_name", "gaps"],
                },
            },
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "pages": {"type": "integer"},
        },
        "required": ["on", "items", "page", "per_page", "total", "pages"],
    },
}

openapi.register(OPENAPI_PATHS, OPENAPI_SCHEMAS)
