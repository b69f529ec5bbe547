"""/api/v1/training/records: training records (one per enrollment), filtered and paginated.

OPENAPI_PATHS and OPENAPI_SCHEMAS join the API's OpenAPI document (app.api.openapi).
"""

from __future__ import annotations

from typing import Any

from flask import request

from app.api import bp, openapi, page_body
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import (
    DATE_TIME_OR_NULL,
    ID,
    auth_errors,
    page_response,
    page_schema,
    paging_params,
    path_id,
)
from app.api.openapi_parts import json_response as _json
from app.api.openapi_parts import problem as _problem
from app.api.openapi_parts import query_param as _query
from app.api.schemas import RequirementStatus, component_schemas, ref
from app.gxp import employee_record as records
from app.gxp.employee_record_lines import ResultLine
from app.learning.models import ENROLLMENT_SOURCES, ENROLLMENT_STATUSES, RESULT_KINDS
from app.platform.pagination import clamp
from app.platform.timefmt import iso_date, iso_utc

COLLECTION = "/v1/training/records"
ITEM = "/v1/training/records/<int(max=2147483647):record_id>"


def record_json(row: records.TrainingRecord) -> dict[str, Any]:
    """The one JSON shape of a training record."""
    return {
        "id": row.id,
        "user": {"id": row.user_id, "email": row.user_email, "name": row.user_name},
        "course": {"id": row.course_id, "code": row.course_code, "title": row.course_title},
        "cycle": row.cycle,
        "source": row.source,
        "status": row.status,
        "due_date": iso_date(row.due_date),
        "requirement_status": row.requirement_status,
        "valid_until": iso_date(row.valid_until),
        "document_version": row.document_version,
        "created_at": iso_utc(row.created_at),
        "started_at": iso_utc(row.started_at),
        "completed_at": iso_utc(row.completed_at),
        "score": row.score,
        "certificate_id": row.certificate_id,
    }


def result_json(row: ResultLine) -> dict[str, Any]:
    return {
        "id": row.id,
        "module": {"id": row.module_id, "title": row.module_title},
        "kind": row.kind,
        "attempt_no": row.attempt_no,
        "status": row.status,
        "score": row.score,
        "max_score": row.max_score,
        "passed": row.passed,
        "graded_by": (
            {"id": row.graded_by_id, "name": row.graded_by} if row.graded_by_id else None
        ),
        "submitted_at": iso_utc(row.submitted_at),
        "graded_at": iso_utc(row.graded_at),
    }


@bp.get(COLLECTION)
@api_access("records.view")
def list_training_records():
    filters = records.parse_record_filters(request.args)
    page, per_page = clamp(request.args.get("page", 1), request.args.get("per_page", 20))
    found = records.list_training_records(current_actor(), filters, page, per_page)
    return page_body(found, [record_json(r) for r in found.items])


@bp.get(ITEM)
@api_access("records.view")
def get_training_record(record_id: int):
    detail = records.get_training_record(current_actor(), record_id)
    return {**record_json(detail.record), "results": [result_json(r) for r in detail.results]}


# --- OpenAPI ---------------------------------------------------------------------------------


_ACCESS = (
    "Needs the `read` scope. HR, QA and admins (`records.view_all`) read everyone's records; "
    "anyone else their own and those of their direct reports (the same rule as the person "
    "pages)."
)

OPENAPI_PATHS: dict = {
    "/api/v1/training/records": {
        "get": {
            "operationId": "listTrainingRecords",
            "summary": "Training records (one per enrollment, every cycle), filtered and paginated",
            "description": (
                f"{_ACCESS} Ordered by id (creation order), so pages stay stable while records "
                "are added. `from`/`to` are inclusive UTC days applied to `completed_at`, or to "
                "`created_at` for records not completed. A `Link` header (RFC 8288) gives "
                "first/prev/next/last."
            ),
            "parameters": [
                _query(
                    "user_id",
                    ID,
                    "One person. 403 when you may not read them (404 for an unknown id, to "
                    "those who read everyone).",
                ),
                _query("department", ID, "The person's current department id."),
                _query("course_id", ID, "One course."),
                _query(
                    "status",
                    {"type": "string", "enum": list(ENROLLMENT_STATUSES)},
                    "Enrollment status.",
                ),
                _query(
                    "from",
                    {"type": "string", "format": "date"},
                    "On or after this day (completed_at, else created_at).",
                ),
                _query(
                    "to",
                    {"type": "string", "format": "date"},
                    "On or before this day (completed_at, else created_at); not before `from`.",
                ),
                *paging_params(),
            ],
            "responses": {
                "200": page_response("TrainingRecordPage", "A page of training records."),
                **auth_errors(
                    "The token lacks `read`, or `user_id` names someone you may not read."
                ),
                "404": _problem("`user_id` names nobody (said only to HR/QA/admin)."),
                "422": _problem("Invalid filters; `errors` maps each parameter to its messages."),
            },
        }
    },
    "/api/v1/training/records/{record_id}": {
        "parameters": [path_id("record_id")],
        "get": {
            "operationId": "getTrainingRecord",
            "summary": "One training record with its results (quiz attempts, assignment grades)",
            "description": _ACCESS,
            "responses": {
                "200": _json("TrainingRecordDetail", "The record and its results."),
                **auth_errors("Not yours, not your direct report's, and not HR/QA/admin."),
                "404": _problem("No such record."),
            },
        },
    },
}

OPENAPI_SCHEMAS: dict = {
    "TrainingRecord": {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "description": "The enrollment id."},
            "user": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "email": {"type": "string"},
                    "name": {"type": "string"},
                },
            },
            "course": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "code": {"type": "string"},
                    "title": {"type": "string"},
                },
            },
            "cycle": {"type": "integer", "description": "1, then one more per recertification."},
            "source": {"type": "string", "enum": list(ENROLLMENT_SOURCES)},
            "status": {"type": "string", "enum": list(ENROLLMENT_STATUSES)},
            "due_date": {
                "type": ["string", "null"],
                "format": "date",
                "description": "For an open record that serves a requirement: the requirement's"
                " due date (the compliance status derivation), else the record's own.",
            },
            "requirement_status": {
                "anyOf": [ref(RequirementStatus), {"type": "null"}],
                "description": "An open record serving a requirement: its compliance status.",
            },
            "valid_until": {"type": ["string", "null"], "format": "date"},
            "document_version": {
                "type": ["string", "null"],
                "description": "Read-and-understand training: the document version it is for.",
            },
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": DATE_TIME_OR_NULL,
            "completed_at": DATE_TIME_OR_NULL,
            "score": {"type": ["number", "null"]},
            "certificate_id": {
                "type": ["integer", "null"],
                "description": "The certificate issued for this record, if any.",
            },
        },
        "required": ["id", "user", "course", "cycle", "source", "status", "created_at"],
    },
    "TrainingRecordResult": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "module": {
                "type": "object",
                "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
            },
            "kind": {"type": "string", "enum": list(RESULT_KINDS)},
            "attempt_no": {"type": "integer"},
            "status": {"type": "string", "enum": ["in_progress", "submitted", "graded"]},
            "score": {"type": ["number", "null"]},
            "max_score": {"type": ["number", "null"]},
            "passed": {"type": ["boolean", "null"]},
            "graded_by": {
                "type": ["object", "null"],
                "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                "description": "null for quizzes graded automatically, or not yet graded.",
            },
            "submitted_at": DATE_TIME_OR_NULL,
            "graded_at": DATE_TIME_OR_NULL,
        },
    },
    "TrainingRecordDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/TrainingRecord"},
            {
                "type": "object",
                "properties": {
                    "results": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/TrainingRecordResult"},
                    }
                },
                "required": ["results"],
            },
        ]
    },
    "TrainingRecordPage": page_schema("TrainingRecord"),
    **component_schemas(RequirementStatus),
}

openapi.register(OPENAPI_PATHS, OPENAPI_SCHEMAS)
