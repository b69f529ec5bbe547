"""The OpenAPI 3.1 document of the API; a test keeps its paths equal to the URL map."""

from __future__ import annotations

from copy import deepcopy

from app.api import bp
from app.api.auth import api_access
from app.api.openapi_parts import page_schema
from app.api.openapi_parts import problem as _problem
from app.api.openapi_parts import query_param as _query
from app.models.courses import COURSE_LEVELS, COURSE_STATUSES, MODULE_KINDS
from app.models.security import TOKEN_SCOPES
from app.permissions import PUBLIC


def _json(schema_ref: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


_COURSE_FIELDS = {
    "code": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"},
    "title": {"type": "string", "maxLength": 200},
    "summary": {"type": "string", "maxLength": 5000},
    "category": {"type": "string", "maxLength": 80},
    "tags": {"type": "array", "items": {"type": "string"}},
    "level": {"type": "string", "enum": list(COURSE_LEVELS)},
    "language": {"type": "string", "examples": ["en", "de", "fr-CH"]},
    "estimated_minutes": {"type": "integer", "minimum": 1, "maximum": 10000},
    "passing_score": {"type": "integer", "minimum": 0, "maximum": 100},
    "validity_months": {
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 240,
        "description": "null: the certification never expires.",
    },
    "mandatory": {"type": "boolean"},
    "is_onboarding": {"type": "boolean"},
    "self_enroll": {"type": "boolean"},
}

_ID = {
    "name": "course_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647},
}
_STD = {
    "401": _problem("No valid token and no session."),
    "403": _problem("Role or token scope does not allow this."),
}


DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Cadre API",
        "version": "1",
        "description": (
            "Training courses of Cadre. Authenticate with `Authorization: Bearer <token>` "
            "(admins issue tokens) or a browser session; cookie-session writes need the "
            "`X-CSRFToken` header. Errors are RFC 9457 `application/problem+json`."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    "paths": {
        "/api/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": {"application/json": {}},
                    }
                },
            }
        },
        "/api/training/courses": {
            "get": {
                "operationId": "listCourses",
                "summary": "Search the course catalog",
                "description": (
                    "Needs `catalog.view` and the `read` scope. Learners see published courses; "
                    "course managers may filter by any status. A `Link` header (RFC 8288) gives "
                    "first/prev/next/last."
                ),
                "parameters": [
                    _query("q", {"type": "string"}, "Words matched in title, summary, tags, code."),
                    _query("category", {"type": "string"}, "Exact category."),
                    _query(
                        "status",
                        {"type": "string", "enum": list(COURSE_STATUSES)},
                        "Managers only.",
                    ),
                    _query("level", {"type": "string", "enum": list(COURSE_LEVELS)}, "Level."),
                    _query("language", {"type": "string"}, "Language code."),
                    _query("mandatory", {"type": "boolean"}, "Mandatory courses only (or not)."),
                    _query("onboarding", {"type": "boolean"}, "Onboarding courses only (or not)."),
                    _query(
                        "sort",
                        {"type": "string", "enum": ["title", "newest", "shortest", "longest"]},
                        "Order.",
                    ),
                    _query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number."),
                    _query(
                        "per_page",
                        {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                        "Page size; larger values are clamped to 100.",
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "A page of courses.",
                        "headers": {"Link": {"schema": {"type": "string"}}},
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/CoursePage"}
                            }
                        },
                    },
                    **_STD,
                },
            },
            "post": {
                "operationId": "createCourse",
                "summary": "Create a draft course",
                "description": "Needs `course.manage` (admin, trainer) and the `write` scope.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CourseInput"}}
                    },
                },
                "responses": {
                    "201": {
                        **_json("CourseDetail", "Created."),
                        "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                    },
                    "400": _problem(
                        "The body is not a JSON object, or the CSRF header is missing."
                    ),
                    **_STD,
                    "422": _problem("Invalid fields; `errors` maps each field to its messages."),
                },
            },
        },
        "/api/training/courses/{course_id}": {
            "parameters": [_ID],
            "get": {
                "operationId": "getCourse",
                "summary": "One course with its ordered modules",
                "responses": {
                    "200": _json("CourseDetail", "The course."),
                    **_STD,
                    "404": _problem("No such course (or not published, for learners)."),
                },
            },
            "put": {
                "operationId": "updateCourse",
                "summary": "Change some fields; `status` publishes or retires",
                "description": "Editing a published course bumps its version.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "allOf": [
                                    {"$ref": "#/components/schemas/CourseInput"},
                                    {
                                        "type": "object",
                                        "properties": {
                                            "status": {
                                                "type": "string",
                                                "enum": list(COURSE_STATUSES),
                                            }
                                        },
                                    },
                                ]
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json("CourseDetail", "The updated course."),
                    "400": _problem(
                        "The body is not a JSON object, or the CSRF header is missing."
                    ),
                    **_STD,
                    "404": _problem("No such course."),
                    "409": _problem("Publishing a course without modules."),
                    "422": _problem("Invalid fields; `errors` maps each field to its messages."),
                },
            },
            "delete": {
                "operationId": "deleteCourse",
                "summary": "Delete a course nobody is enrolled in",
                "responses": {
                    "204": {"description": "Deleted."},
                    "400": _problem("The CSRF header is missing (browser sessions)."),
                    **_STD,
                    "404": _problem("No such course."),
                    "409": _problem("The course has enrollments; retire it instead."),
                },
            },
        },
    },
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": f"An API token (`cadre_...`); scopes: {', '.join(TOKEN_SCOPES)}.",
            },
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "cadre_session"},
        },
        "schemas": {
            "CourseInput": {
                "type": "object",
                "properties": deepcopy(_COURSE_FIELDS),
                "required": ["code", "title"],
                "additionalProperties": True,
                "description": (
                    "Read-only fields (id, version, created_at, updated_at, modules) are ignored."
                ),
            },
            "Course": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    **deepcopy(_COURSE_FIELDS),
                    "status": {"type": "string", "enum": list(COURSE_STATUSES)},
                    "version": {"type": "integer"},
                    "created_at": {"type": "string", "format": "date-time"},
                    "updated_at": {"type": "string", "format": "date-time"},
                },
                "required": [
                    "id",
                    "code",
                    "title",
                    "status",
                    "version",
                    "created_at",
                    "updated_at",
                ],
            },
            "ModuleSummary": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "position": {"type": "integer"},
                    "kind": {"type": "string", "enum": list(MODULE_KINDS)},
                    "title": {"type": "string"},
                    "required": {"type": "boolean"},
                    "estimated_minutes": {"type": "integer"},
                },
            },
            "CourseDetail": {
                "allOf": [
                    {"$ref": "#/components/schemas/Course"},
                    {
                        "type": "object",
                        "properties": {
                            "modules": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/ModuleSummary"},
                            }
                        },
                    },
                ]
            },
            "CoursePage": page_schema("Course"),
            "Problem": {
                "type": "object",
                "description": "RFC 9457 problem details.",
                "properties": {
                    "type": {"type": "string"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "errors": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        "description": "Field name -> messages (422 only).",
                    },
                },
                "required": ["type", "title", "status"],
            },
        },
    },
}


def _merge_area_documents() -> None:
    """Fold in the paths and schemas each API area module declares beside its routes.

    An area module may define OPENAPI_PATHS and OPENAPI_SCHEMAS (plain dicts); keeping them next
    to the routes keeps the document and the code in step.
    """
    import importlib

    for name in AREA_MODULES:
        module = importlib.import_module(name)
        DOCUMENT["paths"].update(getattr(module, "OPENAPI_PATHS", {}))
        DOCUMENT["components"]["schemas"].update(getattr(module, "OPENAPI_SCHEMAS", {}))


AREA_MODULES = (
    "app.api.users",
    "app.api.certifications",
    "app.api.programs",
    "app.api.competency",
    "app.api.reports",
    "app.api.records",
    "app.api.documents",
    "app.api.inspection",
    "app.api.sessions",
)
_merge_area_documents()


@bp.get("/openapi.json")
@api_access(PUBLIC)
def openapi_document():
    return DOCUMENT
