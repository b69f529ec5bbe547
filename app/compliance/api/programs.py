"""/api/v1/training/programs: programs (curricula) and their ordered courses.

OPENAPI_PATHS and OPENAPI_SCHEMAS join the API's OpenAPI document (app.api.openapi).
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from app.api import bp, json_object, openapi, page_body
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import auth_errors, page_response, page_schema, paging_params, path_id
from app.api.openapi_parts import json_response as _json
from app.api.openapi_parts import problem as _problem
from app.api.openapi_parts import query_param as _query
from app.compliance import programs as program_service
from app.compliance.models import CURRICULUM_STATUSES, Curriculum

COLLECTION = "/v1/training/programs"
ITEM = "/v1/training/programs/<int(max=2147483647):program_id>"
INPUT = {*program_service.PROGRAM_FIELDS, "course_ids"}


def program_json(program: Curriculum) -> dict[str, Any]:
    """The one JSON shape of a program, courses in order."""
    ordered = sorted(program.courses, key=lambda cc: cc.position)
    return {
        "id": program.id,
        "code": program.code,
        "title": program.title,
        "description": program.description,
        "validity_months": program.validity_months,
        "status": program.status,
        "course_ids": [cc.course_id for cc in ordered],
        "courses": [
            {
                "id": cc.course_id,
                "code": cc.course.code,
                "title": cc.course.title,
                "position": cc.position,
            }
            for cc in ordered
        ],
    }


def _body() -> dict:
    return {k: v for k, v in json_object().items() if k in INPUT}


@bp.get(COLLECTION)
@api_access("catalog.view")
def list_programs():
    page = program_service.list_programs(program_service.ProgramQuery.from_args(request.args))
    return page_body(page, [program_json(p) for p in page.items])


@bp.post(COLLECTION)
@api_access("program.manage")
def create_program():
    program = program_service.create_program(_body(), current_actor())
    location = url_for("api.get_program", program_id=program.id, _external=True)
    return program_json(program), 201, {"Location": location}


@bp.get(ITEM)
@api_access("catalog.view")
def get_program(program_id: int):
    return program_json(program_service.get_program(program_id))


@bp.put(ITEM)
@api_access("program.manage")
def update_program(program_id: int):
    return program_json(program_service.update_program(program_id, _body(), current_actor()))


@bp.delete(ITEM)
@api_access("program.manage")
def delete_program(program_id: int):
    program_service.delete_program(program_id, current_actor())
    return "", 204


# --- OpenAPI ---------------------------------------------------------------------------------


_STD = auth_errors()
_WRITE = {
    "400": _problem("The body is not a JSON object, or the CSRF header is missing."),
    **_STD,
    "422": _problem("Invalid fields; `errors` maps each field to its messages."),
}
_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProgramInput"}}},
}
_ID = path_id("program_id")

OPENAPI_PATHS: dict = {
    "/api/v1/training/programs": {
        "get": {
            "operationId": "listPrograms",
            "summary": "Programs (curricula) by title",
            "description": "Needs `catalog.view` and the `read` scope. `Link` header for paging.",
            "parameters": [
                _query("q", {"type": "string"}, "Words in the title or code."),
                _query("status", {"type": "string", "enum": list(CURRICULUM_STATUSES)}, "Status."),
                *paging_params(),
            ],
            "responses": {
                "200": page_response("ProgramPage", "A page of programs."),
                **_STD,
            },
        },
        "post": {
            "operationId": "createProgram",
            "summary": "Create a program",
            "description": (
                "Needs `program.manage` (admin, HR, QA, trainer) and the `write` scope. Audited."
            ),
            "requestBody": _BODY,
            "responses": {
                "201": {
                    **_json("Program", "Created."),
                    "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                },
                **_WRITE,
            },
        },
    },
    "/api/v1/training/programs/{program_id}": {
        "parameters": [_ID],
        "get": {
            "operationId": "getProgram",
            "summary": "One program with its ordered courses",
            "responses": {
                "200": _json("Program", "The program."),
                **_STD,
                "404": _problem("No such program."),
            },
        },
        "put": {
            "operationId": "updateProgram",
            "summary": "Change some fields; `course_ids` replaces the ordered course list",
            "requestBody": _BODY,
            "responses": {
                "200": _json("Program", "The changed program."),
                **_WRITE,
                "404": _problem("No such program."),
            },
        },
        "delete": {
            "operationId": "deleteProgram",
            "summary": "Delete a program no requirement uses",
            "responses": {
                "204": {"description": "Deleted."},
                **_STD,
                "404": _problem("No such program."),
                "409": _problem("A competency matrix row requires it; retire it instead."),
            },
        },
    },
}

_FIELDS: dict = {
    "code": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"},
    "title": {"type": "string", "maxLength": 200},
    "description": {"type": "string", "maxLength": 5000},
    "validity_months": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 240,
        "description": "null: completing the program never expires.",
    },
    "status": {"type": "string", "enum": list(CURRICULUM_STATUSES)},
    "course_ids": {
        "type": "array",
        "items": {"type": "integer"},
        "description": "The program's courses, in order.",
    },
}

OPENAPI_SCHEMAS: dict = {
    "ProgramInput": {
        "type": "object",
        "description": "code and title are required to create; PUT changes the fields sent.",
        "properties": _FIELDS,
    },
    "Program": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            **_FIELDS,
            "courses": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "code": {"type": "string"},
                        "title": {"type": "string"},
                        "position": {"type": "integer"},
                    },
                },
            },
        },
        "required": ["id", "code", "title", "status", "course_ids", "courses"],
    },
    "ProgramPage": page_schema("Program"),
}

openapi.register(OPENAPI_PATHS, OPENAPI_SCHEMAS)
