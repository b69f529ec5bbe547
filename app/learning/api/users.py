"""API area: a person's training records (seed 1 paths): read, enrol, progress, results.

OPENAPI_PATHS and OPENAPI_SCHEMAS join the API's OpenAPI document (app.api.openapi).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request

from app.api import bp, json_object, openapi, page_body
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import json_response as _json
from app.api.openapi_parts import problem as _problem
from app.learning import enrollments as enrollment_service
from app.learning import training_records
from app.learning.certificates import CERTIFICATE_STATUSES
from app.learning.models import ENROLLMENT_SOURCES, PROGRESS_STATUSES
from app.platform.errors import Invalid
from app.platform.pagination import clamp
from app.platform.timefmt import iso

USER = "/training/users/<int(max=2147483647):user_id>"
PROGRESS_FIELDS = ("status", "percent", "position", "time_spent_seconds")


def enrollment_json(row: training_records.EnrollmentRow) -> dict[str, Any]:
    """The one JSON shape of an enrollment with its progress."""
    return {
        "id": row.id,
        "course": {"id": row.course_id, "code": row.course_code, "title": row.course_title},
        "status": row.status,
        "source": row.source,
        "due_date": iso(row.due_date),
        "overdue": row.overdue,
        "requirement_status": row.requirement_status,
        "valid_until": iso(row.valid_until),
        "document_version": row.document_version,
        "progress_percent": row.progress_percent,
        "required_modules": row.required_modules,
        "completed_modules": row.completed_modules,
        "score": row.score,
        "created_at": iso(row.created_at),
        "started_at": iso(row.started_at),
        "completed_at": iso(row.completed_at),
    }


def certification_json(row: training_records.CertificationRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "course": {"id": row.course_id, "title": row.course_title},
        "number": row.number,
        "verification_code": row.verification_code,
        "status": row.status,
        "issued_at": iso(row.issued_at),
        "expires_at": iso(row.expires_at),
        "revoked_at": iso(row.revoked_at),
    }


def result_json(row: training_records.ResultRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "enrollment_id": row.enrollment_id,
        "module": {"id": row.module_id, "title": row.module_title},
        "course": {"id": row.course_id, "title": row.course_title},
        "attempt_no": row.attempt_no,
        "status": row.status,
        "score": row.score,
        "max_score": row.max_score,
        "percent": row.percent,
        "passed": row.passed,
        "submitted_at": iso(row.submitted_at),
        "graded_at": iso(row.graded_at),
    }


def _due_date(value) -> date | None:
    """Parse an optional ISO date. Raises Invalid."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise Invalid("Bad due date.", {"due_date": ["An ISO date such as 2030-01-31, or null."]})


@bp.get(USER)
@api_access("records.view")
def get_user_training(user_id: int):
    user = enrollment_service.visible_user(current_actor(), user_id)
    training = training_records.user_training(user.id)
    return {
        "user": {"id": user.id, "name": user.name, "email": user.email},
        "enrollments": [enrollment_json(e) for e in training.enrollments],
        "certifications": [certification_json(c) for c in training.certifications],
    }


@bp.post(f"{USER}/enroll")
@api_access("records.write")
def enroll(user_id: int):
    data = json_object()
    source = data.get("source")
    if source is not None and not isinstance(source, str):
        raise Invalid("Bad source.", {"source": [f"One of: {', '.join(ENROLLMENT_SOURCES)}."]})
    enrollment, created = enrollment_service.enroll_person(
        current_actor(),
        user_id,
        data.get("course_id"),
        due_date=_due_date(data.get("due_date")),
        source=source,
    )
    body = enrollment_json(training_records.enrollment_row(enrollment.id))
    return body, 201 if created else 200


@bp.put(f"{USER}/progress")
@api_access("records.write")
def record_progress(user_id: int):
    data = json_object()
    fields = {name: data[name] for name in PROGRESS_FIELDS if data.get(name) is not None}
    progress = enrollment_service.record_progress_for_user(
        current_actor(),
        user_id,
        data.get("module_id"),
        enrollment_id=data.get("enrollment_id"),
        **fields,
    )
    return {
        "module_id": progress.module_id,
        "status": progress.status,
        "percent": progress.percent,
        "position": progress.position,
        "time_spent_seconds": progress.time_spent_seconds,
        "completed_at": iso(progress.completed_at),
        "enrollment": enrollment_json(training_records.enrollment_row(progress.enrollment_id)),
    }


@bp.get(f"{USER}/results")
@api_access("records.view")
def list_results(user_id: int):
    user = enrollment_service.visible_user(current_actor(), user_id)
    page, per_page = clamp(request.args.get("page", 1), request.args.get("per_page", 20))
    found = training_records.user_results(user.id, page, per_page)
    return page_body(found, [result_json(r) for r in found.items])


# --- OpenAPI ---------------------------------------------------------------------------------


def _body(schema: str) -> dict:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


_USER_ID = {
    "name": "user_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647},
}
_READ = {
    "401": _problem("No valid token and no session."),
    "403": _problem(
        "Not yourself, not your direct report, and not HR/QA/admin; or the token lacks `read`."
    ),
    "404": _problem("No such person (only said to those who may read everyone)."),
}
_WRITE = {
    "400": _problem("The body is not a JSON object, or the CSRF header is missing."),
    "401": _problem("No valid token and no session."),
    "422": _problem("Invalid fields; `errors` maps each field to its messages."),
}
_REF = {"type": "object", "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}}
_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}

OPENAPI_PATHS: dict = {
    "/api/training/users/{user_id}": {
        "parameters": [_USER_ID],
        "get": {
            "operationId": "getUserTraining",
            "summary": "A person's enrollments with progress and due dates, and certifications",
            "description": (
                "Needs the `read` scope. A person may read their own records, a manager those of "
                "their direct reports, HR/QA/admin everyone's."
            ),
            "responses": {"200": _json("UserTraining", "The person's training."), **_READ},
        },
    },
    "/api/training/users/{user_id}/enroll": {
        "parameters": [_USER_ID],
        "post": {
            "operationId": "enrollUser",
            "summary": "Enrol a person in a course; enrolling again returns the enrollment",
            "description": (
                "Needs the `write` scope. Anyone may enrol themselves in a published course that "
                "allows self-enrolment; managers enrol their direct reports, HR/trainers/admins "
                "anyone."
            ),
            "requestBody": _body("EnrollInput"),
            "responses": {
                "201": _json("TrainingEnrollment", "Enrolled."),
                "200": _json("TrainingEnrollment", "Already enrolled: the existing enrollment."),
                **_WRITE,
                "403": _problem(
                    "You may not enrol this person, the course is assigned only, or the token "
                    "lacks `write`."
                ),
                "404": _problem("No such person, or the account is deactivated."),
                "409": _problem("The course is not published."),
            },
        },
    },
    "/api/training/users/{user_id}/progress": {
        "parameters": [_USER_ID],
        "put": {
            "operationId": "recordProgress",
            "summary": "Record progress in a module (for external players)",
            "description": (
                "Needs the `write` scope; only the learner (or an admin). The enrollment is the "
                "person's current one in the module's course. Percent never goes down; quizzes "
                "and assignments complete only when graded. Completing every required module "
                "(and reaching the passing score) completes the enrollment."
            ),
            "requestBody": _body("ProgressInput"),
            "responses": {
                "200": _json("ProgressRecord", "The module's progress and the enrollment."),
                **_WRITE,
                "403": _problem("Not the learner, or the token lacks `write`."),
                "404": _problem("No such person."),
                "409": _problem("Not enrolled in the module's course, or enrollment closed."),
            },
        },
    },
    "/api/training/users/{user_id}/results": {
        "parameters": [_USER_ID],
        "get": {
            "operationId": "listUserResults",
            "summary": "A person's submitted and graded quiz and assignment results",
            "description": "Same access as reading the person. A `Link` header gives the pages.",
            "parameters": [
                {
                    "name": "page",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "default": 1},
                },
                {
                    "name": "per_page",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                },
            ],
            "responses": {
                "200": {
                    **_json("ResultPage", "A page of results, newest first."),
                    "headers": {"Link": {"schema": {"type": "string"}}},
                },
                **_READ,
            },
        },
    },
}

OPENAPI_SCHEMAS: dict = {
    "TrainingEnrollment": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "course": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "code": {"type": "string"},
                    "title": {"type": "string"},
                },
            },
            "status": {
                "type": "string",
                "enum": ["assigned", "in_progress", "completed", "failed", "waived", "expired"],
            },
            "source": {"type": "string", "enum": list(ENROLLMENT_SOURCES)},
            "due_date": {"type": ["string", "null"], "format": "date"},
            "overdue": {"type": "boolean"},
            "requirement_status": {
                "type": ["string", "null"],
                "enum": [
                    None,
                    "compliant",
                    "due_soon",
                    "overdue",
                    "expired",
                    "not_started",
                    "waived",
                ],
                "description": "When the enrollment serves a requirement: its compliance status"
                " (then due_date, overdue and valid_until are the requirement's).",
            },
            "valid_until": {"type": ["string", "null"], "format": "date"},
            "document_version": {"type": ["string", "null"]},
            "progress_percent": {"type": "integer", "minimum": 0, "maximum": 100},
            "required_modules": {"type": "integer"},
            "completed_modules": {"type": "integer"},
            "score": {"type": ["number", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": _DATE_TIME,
            "completed_at": _DATE_TIME,
        },
        "required": ["id", "course", "status", "due_date", "overdue", "progress_percent"],
    },
    "UserCertification": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "course": _REF,
            "number": {"type": "string"},
            "verification_code": {"type": "string"},
            "status": {"type": "string", "enum": list(CERTIFICATE_STATUSES)},
            "issued_at": {"type": "string", "format": "date-time"},
            "expires_at": _DATE_TIME,
            "revoked_at": _DATE_TIME,
        },
    },
    "UserTraining": {
        "type": "object",
        "properties": {
            "user": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "email": {"type": "string"},
                },
            },
            "enrollments": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/TrainingEnrollment"},
            },
            "certifications": {
                "type": "array",
                "items": {"$ref": "#/components/schemas/UserCertification"},
            },
        },
        "required": ["user", "enrollments", "certifications"],
    },
    "EnrollInput": {
        "type": "object",
        "properties": {
            "course_id": {"type": "integer"},
            "due_date": {"type": ["string", "null"], "format": "date"},
            "source": {
                "type": "string",
                "enum": list(ENROLLMENT_SOURCES),
                "description": "Defaults to `self` for yourself, `manager` for others.",
            },
        },
        "required": ["course_id"],
    },
    "ProgressInput": {
        "type": "object",
        "properties": {
            "module_id": {"type": "integer"},
            "enrollment_id": {
                "type": "integer",
                "description": "Optional; the module must then belong to this enrollment.",
            },
            "status": {"type": "string", "enum": list(PROGRESS_STATUSES)},
            "percent": {"type": "integer", "minimum": 0, "maximum": 100},
            "position": {"type": "number", "minimum": 0},
            "time_spent_seconds": {
                "type": "integer",
                "minimum": 0,
                "maximum": 86400,
                "description": "Added to the time already recorded.",
            },
        },
        "required": ["module_id"],
    },
    "ProgressRecord": {
        "type": "object",
        "properties": {
            "module_id": {"type": "integer"},
            "status": {"type": "string", "enum": list(PROGRESS_STATUSES)},
            "percent": {"type": "integer"},
            "position": {"type": ["number", "null"]},
            "time_spent_seconds": {"type": "integer"},
            "completed_at": _DATE_TIME,
            "enrollment": {"$ref": "#/components/schemas/TrainingEnrollment"},
        },
    },
    "TrainingResult": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": ["quiz", "assignment", "scenario"]},
            "enrollment_id": {"type": "integer"},
            "module": _REF,
            "course": _REF,
            "attempt_no": {"type": "integer"},
            "status": {"type": "string", "enum": ["submitted", "graded"]},
            "score": {"type": ["number", "null"]},
            "max_score": {"type": ["number", "null"]},
            "percent": {"type": ["number", "null"]},
            "passed": {"type": ["boolean", "null"]},
            "submitted_at": _DATE_TIME,
            "graded_at": _DATE_TIME,
        },
    },
    "ResultPage": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/TrainingResult"}},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
            "pages": {"type": "integer"},
        },
        "required": ["items", "page", "per_page", "total", "pages"],
    },
}

openapi.register(OPENAPI_PATHS, OPENAPI_SCHEMAS)
