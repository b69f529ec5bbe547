"""Courses API (seed 1 paths): list, create, read, update, delete."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from flask import request, url_for

from app.api import bp, json_object, link_header, openapi, page_body
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import page_schema
from app.api.openapi_parts import problem as _problem
from app.api.openapi_parts import query_param as _query
from app.learning import courses as course_service
from app.learning.models import COURSE_LEVELS, COURSE_STATUSES, MODULE_KINDS, Course
from app.people.permissions import can
from app.platform.errors import Invalid
from app.platform.pagination import Page
from app.platform.timefmt import iso_utc

COLLECTION = "/training/courses"
ITEM = "/training/courses/<int(max=2147483647):course_id>"  # beyond int4 is simply unknown

_STR = ("code", "title", "summary", "category", "level", "language", "status")
_INT = ("estimated_minutes", "passing_score", "validity_months")
_BOOL = ("mandatory", "is_onboarding", "self_enroll")
# Fields the API hands out but never takes back; ignoring them lets clients PUT a GET body.
READ_ONLY = frozenset({"id", "version", "created_at", "updated_at", "modules"})


def course_json(course: Course) -> dict[str, Any]:
    """The one JSON shape of a course."""
    return {
        "id": course.id,
        "code": course.code,
        "title": course.title,
        "summary": course.summary,
        "category": course.category,
        "tags": course.tag_list,
        "level": course.level,
        "language": course.language,
        "estimated_minutes": course.estimated_minutes,
        "status": course.status,
        "version": course.version,
        "passing_score": course.passing_score,
        "validity_months": course.validity_months,
        "mandatory": course.mandatory,
        "is_onboarding": course.is_onboarding,
        "self_enroll": course.self_enroll,
        "created_at": iso_utc(course.created_at),
        "updated_at": iso_utc(course.updated_at),
    }


def course_detail_json(course: Course) -> dict[str, Any]:
    out = course_json(course)
    out["modules"] = [
        {
            "id": m.id,
            "position": m.position,
            "kind": m.kind,
            "title": m.title,
            "required": m.required,
            "estimated_minutes": m.estimated_minutes,
        }
        for m in course.modules
    ]
    return out


def _type_errors(data: dict) -> dict[str, list[str]]:
    """JSON is typed: refuse strings in number fields, numbers in text fields and so on."""
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        if value is None:
            continue
        if name in _STR and not isinstance(value, str):
            errors[name] = ["Must be a string."]
        elif name in _INT and (isinstance(value, bool) or not isinstance(value, int)):
            errors[name] = ["Must be a whole number."]
        elif name in _BOOL and not isinstance(value, bool):
            errors[name] = ["Must be true or false."]
        elif name == "tags" and not (
            isinstance(value, str)
            or (isinstance(value, list) and all(isinstance(t, str) for t in value))
        ):
            errors[name] = ["Must be a list of strings."]
    if isinstance(data.get("status"), str) and data["status"] not in COURSE_STATUSES:
        errors["status"] = [f"One of: {', '.join(COURSE_STATUSES)}."]
    return errors


def _check(data: dict, partial: bool) -> None:
    """Validate everything up front so a refused request writes nothing. Raises Invalid."""
    errors = _type_errors(data)
    rest = {k: v for k, v in data.items() if k not in errors}
    try:
        course_service.validate_course_data(rest, partial=partial)
    except Invalid as exc:
        for name, messages in exc.errors.items():
            errors.setdefault(name, messages)
    if errors:
        raise Invalid("Some course fields are not valid.", errors)


@bp.get(COLLECTION)
@api_access("catalog.view")
def list_courses():
    query = course_service.CatalogQuery.from_args(request.args)
    manager = can(current_actor(), "course.manage")
    include = manager and bool(query.status)
    learner_asks_for_drafts = not manager and query.status not in ("", "published")

    def build() -> dict:
        if learner_asks_for_drafts:
            # Learners only ever see published courses; asking for drafts finds none.
            page = Page(items=[], total=0, page=query.page, per_page=query.per_page)
        else:
            page = course_service.search_catalog(query, include_unpublished=manager)
        body, _, _ = page_body(page, [course_json(c) for c in page.items])
        return body

    # The same body for everyone with the same view of the catalog, until a course changes;
    # the Link header is this request's own (its host and query string).
    key = ("api", manager, include, tuple(sorted(query.to_args().items())))
    body = course_service.catalog_cached(course_service.catalog_generation(), key, build)
    shown = Page(items=[], total=body["total"], page=body["page"], per_page=body["per_page"])
    return body, 200, {"Link": link_header(shown)}


@bp.post(COLLECTION)
@api_access("course.manage")
def create_course():
    data = {k: v for k, v in json_object().items() if k not in READ_ONLY}
    _check(data, partial=False)
    if data.get("status") not in (None, "draft"):
        raise Invalid(
            "New courses start as drafts.",
            {"status": ["New courses start as draft; publish with PUT once it has modules."]},
        )
    data.pop("status", None)
    course = course_service.create_course(data, actor=current_actor())
    location = url_for("api.get_course", course_id=course.id, _external=True)
    return course_detail_json(course), 201, {"Location": location}


@bp.get(ITEM)
@api_access("catalog.view")
def get_course(course_id: int):
    manager = can(current_actor(), "course.manage")
    course = course_service.get_catalog_course(course_id, include_unpublished=manager)
    return course_detail_json(course)


@bp.put(ITEM)
@api_access("course.manage")
def update_course(course_id: int):
    data = {k: v for k, v in json_object().items() if k not in READ_ONLY}
    course = course_service.get_course(course_id)
    _check(data, partial=True)
    status = data.pop("status", None)
    if status == "published" and course.status != "published":
        # Checked before the field update so a refused publish leaves the course untouched.
        course_service.check_publishable(course)
    actor = current_actor()
    if data:
        course_service.update_course(course_id, data, actor=actor, partial=True)
    if status:
        course_service.set_course_status(course_id, status, actor=actor)
    return course_detail_json(course_service.get_course(course_id))


@bp.delete(ITEM)
@api_access("course.manage")
def delete_course(course_id: int):
    course_service.delete_course(course_id, actor=current_actor())
    return "", 204


# --- the OpenAPI document of these endpoints -------------------------------------------------


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

OPENAPI_PATHS = {
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
                        "application/json": {"schema": {"$ref": "#/components/schemas/CoursePage"}}
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
                "400": _problem("The body is not a JSON object, or the CSRF header is missing."),
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
                "400": _problem("The body is not a JSON object, or the CSRF header is missing."),
                **_STD,
                "404": _problem("No such course."),
                "409": _problem(
                    "Publishing a course without modules, or with a required module learners "
                    "cannot complete (`errors.modules` names them)."
                ),
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
}

OPENAPI_SCHEMAS = {
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
}

openapi.register(OPENAPI_PATHS, OPENAPI_SCHEMAS)
