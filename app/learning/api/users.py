"""API area: a person's training records (seed 1 paths): read, enrol, progress, results.

The bodies are pydantic models (app.api.schemas): they validate the input, shape the output
and, with OPENAPI_PATHS, join the API's OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import request
from pydantic import Field

from app.api import bp, page_body
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import json_response as _json
from app.api.openapi_parts import paging_errors, paging_params
from app.api.openapi_parts import problem as _problem
from app.api.schemas import (
    DateText,
    DateTimeText,
    Id,
    Input,
    IsoDate,
    Output,
    Page,
    RequirementStatus,
    body,
    dump,
    parse,
    register_models,
)
from app.learning import enrollments as enrollment_service
from app.learning import training_records
from app.learning.certificates import CERTIFICATE_STATUSES
from app.learning.models import (
    ENROLLMENT_SOURCES,
    ENROLLMENT_STATUSES,
    PROGRESS_STATUSES,
    RESULT_KINDS,
)
from app.platform.pagination import clamp
from app.platform.timefmt import iso

USER = "/training/users/<int(max=2147483647):user_id>"
PROGRESS_FIELDS = ("status", "percent", "position", "time_spent_seconds")

EnrollmentSource = Literal[ENROLLMENT_SOURCES]
ProgressStatus = Literal[PROGRESS_STATUSES]


# --- bodies ----------------------------------------------------------------------------------


class EnrollInput(Input):
    course_id: Id
    due_date: IsoDate | None = None
    source: Annotated[
        EnrollmentSource | None,
        Field(description="Defaults to `self` for yourself, `manager` for others."),
    ] = None


class ProgressInput(Input):
    module_id: Id
    enrollment_id: Annotated[
        Id | None, Field(description="Optional; the module must then belong to this enrollment.")
    ] = None
    status: ProgressStatus | None = None
    percent: Annotated[int | None, Field(ge=0, le=100)] = None
    position: Annotated[float | None, Field(ge=0)] = None
    time_spent_seconds: Annotated[
        int | None, Field(ge=0, le=86400, description="Added to the time already recorded.")
    ] = None


class CourseRef(Output):
    id: int
    title: str


class EnrolledCourse(Output):
    id: int
    code: str
    title: str


class ModuleRef(Output):
    id: int
    title: str


class TrainingEnrollment(Output):
    id: int
    course: EnrolledCourse
    status: Literal[ENROLLMENT_STATUSES]
    source: EnrollmentSource
    due_date: DateText | None
    overdue: bool
    requirement_status: Annotated[
        RequirementStatus | None,
        Field(
            description="When the enrollment serves a requirement: its compliance status"
            " (then due_date, overdue and valid_until are the requirement's)."
        ),
    ]
    valid_until: DateText | None
    document_version: str | None
    progress_percent: Annotated[int, Field(ge=0, le=100)]
    required_modules: int
    completed_modules: int
    score: float | None
    created_at: DateTimeText
    started_at: DateTimeText | None
    completed_at: DateTimeText | None


class UserCertification(Output):
    id: int
    course: CourseRef
    number: str
    verification_code: str
    status: Literal[CERTIFICATE_STATUSES]
    issued_at: DateTimeText
    expires_at: DateTimeText | None
    revoked_at: DateTimeText | None


class TrainingPerson(Output):
    id: int
    name: str
    email: str


class UserTraining(Output):
    user: TrainingPerson
    enrollments: list[TrainingEnrollment]
    certifications: list[UserCertification]


class ProgressRecord(Output):
    module_id: int
    status: ProgressStatus
    percent: int
    position: float | None
    time_spent_seconds: int
    completed_at: DateTimeText | None
    enrollment: TrainingEnrollment


class TrainingResult(Output):
    id: int
    kind: Literal[RESULT_KINDS]
    enrollment_id: int
    module: ModuleRef
    course: CourseRef
    attempt_no: int
    status: Literal["submitted", "graded"]
    score: float | None
    max_score: float | None
    percent: float | None
    passed: bool | None
    submitted_at: DateTimeText | None
    graded_at: DateTimeText | None


class ResultPage(Page):
    items: list[TrainingResult]


def enrollment_fields(row: training_records.EnrollmentRow) -> dict[str, Any]:
    """The fields of an enrollment with its progress (`TrainingEnrollment`)."""
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


def certification_fields(row: training_records.CertificationRow) -> dict[str, Any]:
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


def result_fields(row: training_records.ResultRow) -> dict[str, Any]:
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


# --- routes ----------------------------------------------------------------------------------


@bp.get(USER)
@api_access("records.view")
def get_user_training(user_id: int):
    user = enrollment_service.visible_user(current_actor(), user_id)
    training = training_records.user_training(user.id)
    fields = {
        "user": {"id": user.id, "name": user.name, "email": user.email},
        "enrollments": [enrollment_fields(e) for e in training.enrollments],
        "certifications": [certification_fields(c) for c in training.certifications],
    }
    return dump(UserTraining, fields)


@bp.post(f"{USER}/enroll")
@api_access("records.write")
def enroll(user_id: int):
    data = parse(EnrollInput)
    enrollment, created = enrollment_service.enroll_person(
        current_actor(), user_id, data.course_id, due_date=data.due_date, source=data.source
    )
    answer = enrollment_fields(training_records.enrollment_row(enrollment.id))
    return dump(TrainingEnrollment, answer), 201 if created else 200


@bp.put(f"{USER}/progress")
@api_access("records.write")
def record_progress(user_id: int):
    data = parse(ProgressInput)
    fields = {name: getattr(data, name) for name in PROGRESS_FIELDS}
    progress = enrollment_service.record_progress_for_user(
        current_actor(),
        user_id,
        data.module_id,
        enrollment_id=data.enrollment_id,
        **{name: value for name, value in fields.items() if value is not None},
    )
    answer = {
        "module_id": progress.module_id,
        "status": progress.status,
        "percent": progress.percent,
        "position": progress.position,
        "time_spent_seconds": progress.time_spent_seconds,
        "completed_at": iso(progress.completed_at),
        "enrollment": enrollment_fields(training_records.enrollment_row(progress.enrollment_id)),
    }
    return dump(ProgressRecord, answer)


@bp.get(f"{USER}/results")
@api_access("records.view")
def list_results(user_id: int):
    user = enrollment_service.visible_user(current_actor(), user_id)
    page, per_page = clamp(request.args.get("page", 1), request.args.get("per_page", 20))
    found = training_records.user_results(user.id, page, per_page)
    answer, status, headers = page_body(found, [result_fields(r) for r in found.items])
    return dump(ResultPage, answer), status, headers


# --- OpenAPI ---------------------------------------------------------------------------------

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
            "requestBody": body(EnrollInput),
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
            "requestBody": body(ProgressInput),
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
            "parameters": paging_params(),
            "responses": {
                "200": {
                    **_json("ResultPage", "A page of results, newest first."),
                    "headers": {"Link": {"schema": {"type": "string"}}},
                },
                **paging_errors(),
                **_READ,
            },
        },
    },
}

register_models(OPENAPI_PATHS, EnrollInput, ProgressInput, UserTraining, ProgressRecord, ResultPage)
