"""/api/v1/documents: controlled documents (SOPs) with their versions; QA's signed review and
approval of a version (refused with 403 where the document type's segregation of duties forbids
the caller that step).

OPENAPI_PATHS and OPENAPI_SCHEMAS join the API's OpenAPI document (app.api.openapi).
"""

from __future__ import annotations

from typing import Any

from flask import request

from app.api import bp, json_object, openapi, page_body
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import (
    DATE_TIME_OR_NULL,
    auth_errors,
    page_response,
    page_schema,
    paging_params,
    path_id,
)
from app.api.openapi_parts import json_response as _json
from app.api.openapi_parts import problem as _problem
from app.api.openapi_parts import query_param as _query
from app.gxp import documents as svc
from app.gxp import versions
from app.gxp.models import (
    CHANGE_CLASSES,
    DOCUMENT_TYPES,
    DOCUMENT_VERSION_STATUSES,
    ControlledDocument,
    DocumentVersion,
)
from app.platform.timefmt import iso_date, iso_utc

COLLECTION = "/v1/documents"
ITEM = "/v1/documents/<int(max=2147483647):document_id>"
VERSION = f"{ITEM}/versions/<int(max=2147483647):version_id>"


def document_json(
    doc: ControlledDocument,
    current: svc.CurrentVersion | None,
    drafts: int,
    trained: int,
    affected: int,
) -> dict[str, Any]:
    """The one JSON shape of a document."""
    return {
        "id": doc.id,
        "number": doc.number,
        "title": doc.title,
        "description": doc.description,
        "document_type": doc.document_type,
        "training_due_days": doc.training_due_days,
        "course_id": doc.course_id,
        "owner": {"id": doc.owner.id, "name": doc.owner.name} if doc.owner else None,
        "job_roles": sorted(
            ({"id": a.job_role.id, "name": a.job_role.name} for a in doc.audiences if a.job_role),
            key=lambda r: r["name"],
        ),
        "departments": sorted(
            (
                {"id": a.department.id, "name": a.department.name}
                for a in doc.audiences
                if a.department
            ),
            key=lambda r: r["name"],
        ),
        "current_version": (
            {
                "id": current.id,
                "version": current.version,
                "effective_date": iso_date(current.effective_date),
            }
            if current
            else None
        ),
        "drafts": drafts,
        "trained_on_current": trained,
        "affected": affected,
        "created_at": iso_utc(doc.created_at),
    }


def version_json(v: DocumentVersion) -> dict[str, Any]:
    return {
        "id": v.id,
        "version": v.version,
        "status": v.status,
        "effective_date": iso_date(v.effective_date),
        "checksum": v.checksum,
        "filename": v.file.filename if v.file else None,
        "content_type": v.file.content_type if v.file else None,
        "size": v.file.size if v.file else None,
        "change_class": v.change_class,
        "change_reason": v.change_reason,
        "change_note": v.change_note,
        "created_at": iso_utc(v.created_at),
        "classified_at": iso_utc(v.classified_at),
        "made_effective_at": iso_utc(v.made_effective_at),
        "superseded_at": iso_utc(v.superseded_at),
    }


@bp.get(COLLECTION)
@api_access("document.view")
def list_documents():
    query = svc.DocumentQuery.from_args(request.args)
    found = svc.list_documents(query)
    return page_body(
        found,
        [
            document_json(r.document, r.current, r.drafts, r.trained, r.affected)
            for r in found.items
        ],
    )


@bp.get(ITEM)
@api_access("document.view")
def get_document(document_id: int):
    view = svc.document_view(document_id)
    current = view.current
    summary = (
        svc.CurrentVersion(current.id, current.version, current.effective_date) if current else None
    )
    body = document_json(view.document, summary, len(view.drafts), view.trained, view.affected)
    return {**body, "versions": [version_json(v) for v in view.versions]}


def _password(data: dict) -> str | None:
    password = data.get("signature_password")
    return password if isinstance(password, str) else None


@bp.post(f"{VERSION}/review")
@api_access("document.approve")
def review_version(document_id: int, version_id: int):
    data = json_object()
    fields = {k: data.get(k) for k in ("change_class", "change_reason", "change_note")}
    version = versions.classify_version(
        document_id, version_id, fields, _password(data), current_actor()
    )
    return version_json(version)


@bp.post(f"{VERSION}/approve")
@api_access("document.approve")
def approve_version(document_id: int, version_id: int):
    data = json_object()
    fields = {"effective_date": data.get("effective_date")}
    version = versions.make_effective(
        document_id, version_id, fields, _password(data), current_actor()
    )
    return version_json(version)


# --- OpenAPI ---------------------------------------------------------------------------------

_NAMED = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
}
_ACCESS = "Needs `document.view` (admin, HR, QA, trainer, manager) and the `read` scope."
_SIGNED = (
    "Needs `document.approve` (QA) and the `write` scope; signed with the caller's password "
    "(`signature_password`). Segregation of duties: the document type says which of author "
    "(uploaded the version), reviewer and approver must be different people; a step it forbids "
    "the caller answers 403."
)


def _signed_step(operation: str, summary: str, schema: str, extra: str) -> dict:
    return {
        "parameters": [path_id("document_id"), path_id("version_id")],
        "post": {
            "operationId": operation,
            "summary": summary,
            "description": f"{_SIGNED} {extra}",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}
                },
            },
            "responses": {
                "200": _json("DocumentVersion", "The version after the signed step."),
                "400": _problem("The body is not a JSON object, or the CSRF header is missing."),
                **auth_errors("Not QA, the token's scope, or segregation of duties."),
                "404": _problem("No such version of this document."),
                "409": _problem("Not possible now: the version's state."),
                "422": _problem("Invalid fields or a wrong password."),
                "429": _problem("Too many failed passwords: try again after Retry-After seconds."),
            },
        },
    }


OPENAPI_PATHS: dict = {
    "/api/v1/documents": {
        "get": {
            "operationId": "listDocuments",
            "summary": "Controlled documents (SOPs) with training on their current version",
            "description": (
                f"{_ACCESS} `trained_on_current` of `affected` counts the active people of the "
                "document's job roles and departments who completed its current version (or "
                "the last version that required retraining). A `Link` header gives "
                "first/prev/next/last."
            ),
            "parameters": [
                _query("q", {"type": "string", "maxLength": 100}, "Part of the number or title."),
                *paging_params(),
            ],
            "responses": {
                "200": page_response("DocumentPage", "A page of documents."),
                **auth_errors(),
            },
        }
    },
    "/api/v1/documents/{document_id}": {
        "parameters": [path_id("document_id")],
        "get": {
            "operationId": "getDocument",
            "summary": "One controlled document with every version, newest first",
            "description": _ACCESS,
            "responses": {
                "200": _json("DocumentDetail", "The document and its versions."),
                **auth_errors(),
                "404": _problem("No such document."),
            },
        },
    },
}

OPENAPI_PATHS["/api/v1/documents/{document_id}/versions/{version_id}/review"] = _signed_step(
    "reviewVersion",
    'Review (classify) a draft version\'s change, signed "reviewed"',
    "VersionReview",
    "Only versions after the first are classified.",
)
OPENAPI_PATHS["/api/v1/documents/{document_id}/versions/{version_id}/approve"] = _signed_step(
    "approveVersion",
    'Approve a draft version and make it effective, signed "approved"',
    "VersionApproval",
    "The effective version before it becomes superseded.",
)

OPENAPI_SCHEMAS: dict = {
    "VersionReview": {
        "type": "object",
        "properties": {
            "change_class": {"type": "string", "enum": list(CHANGE_CLASSES)},
            "change_reason": {
                "type": ["string", "null"],
                "description": "Required for an editorial change.",
            },
            "change_note": {"type": ["string", "null"], "maxLength": 1000},
            "signature_password": {"type": "string"},
        },
        "required": ["change_class", "signature_password"],
    },
    "VersionApproval": {
        "type": "object",
        "properties": {
            "effective_date": {"type": "string", "format": "date"},
            "signature_password": {"type": "string"},
        },
        "required": ["effective_date", "signature_password"],
    },
    "Document": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string", "examples": ["SOP-QA-001"]},
            "title": {"type": "string"},
            "document_type": {"type": "string", "enum": list(DOCUMENT_TYPES)},
            "description": {"type": "string"},
            "training_due_days": {"type": "integer", "minimum": 1, "maximum": 365},
            "course_id": {
                "type": ["integer", "null"],
                "description": "The read-and-understand course carrying the training records.",
            },
            "owner": {**_NAMED, "type": ["object", "null"]},
            "job_roles": {"type": "array", "items": _NAMED},
            "departments": {"type": "array", "items": _NAMED},
            "current_version": {
                "type": ["object", "null"],
                "properties": {
                    "id": {"type": "integer"},
                    "version": {"type": "string"},
                    "effective_date": {"type": ["string", "null"], "format": "date"},
                },
            },
            "drafts": {"type": "integer", "description": "Versions uploaded, not yet effective."},
            "trained_on_current": {"type": "integer"},
            "affected": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"},
        },
        "required": ["id", "number", "title", "current_version", "trained_on_current", "affected"],
    },
    "DocumentVersion": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "version": {"type": "string"},
            "status": {"type": "string", "enum": list(DOCUMENT_VERSION_STATUSES)},
            "effective_date": {"type": ["string", "null"], "format": "date"},
            "checksum": {"type": ["string", "null"], "description": "SHA-256 of the file."},
            "filename": {"type": ["string", "null"]},
            "content_type": {"type": ["string", "null"]},
            "size": {"type": ["integer", "null"]},
            "change_class": {"type": ["string", "null"], "enum": [*CHANGE_CLASSES, None]},
            "change_reason": {"type": ["string", "null"]},
            "change_note": {
                "type": ["string", "null"],
                "description": "What changed, shown first to learners (significant changes).",
            },
            "created_at": {"type": "string", "format": "date-time"},
            "classified_at": DATE_TIME_OR_NULL,
            "made_effective_at": DATE_TIME_OR_NULL,
            "superseded_at": DATE_TIME_OR_NULL,
        },
        "required": ["id", "version", "status"],
    },
    "DocumentDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Document"},
            {
                "type": "object",
                "properties": {
                    "versions": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/DocumentVersion"},
                    }
                },
                "required": ["versions"],
            },
        ]
    },
    "DocumentPage": page_schema("Document"),
}

openapi.register(OPENAPI_PATHS, OPENAPI_SCHEMAS)
