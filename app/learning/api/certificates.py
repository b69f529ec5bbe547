"""Certifications API (seed 1 paths): issue one by hand, read one; QA's list of back-dated
manual certificates pending approval, and its e-signed approval or rejection of one.

OPENAPI_PATHS and OPENAPI_SCHEMAS join the API's OpenAPI document (app.api.openapi).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import request, url_for

from app.api import bp, json_object, openapi, page_body
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import (
    DATE_TIME_OR_NULL,
    auth_errors,
    json_response,
    page_response,
    page_schema,
    paging_params,
    path_id,
)
from app.api.openapi_parts import problem as _problem
from app.learning import certificates as cert_service
from app.learning.models import Certification
from app.platform.errors import Invalid
from app.platform.pagination import clamp
from app.platform.timefmt import iso_utc

COLLECTION = "/training/certifications"
ITEM = "/training/certifications/<int(max=2147483647):cert_id>"
PENDING = "/training/certifications/pending"


def certification_json(cert: Certification) -> dict[str, Any]:
    """The one JSON shape of a certification."""
    return {
        "id": cert.id,
        "number": cert.number,
        "user_id": cert.user_id,
        "user_name": cert.user.name,
        "course_id": cert.course_id,
        "course_code": cert.course.code,
        "course_title": cert.course.title,
        "course_version": cert.course_version,
        "enrollment_id": cert.enrollment_id,
        "status": cert_service.certificate_status(cert),
        "approval_status": cert.approval_status,
        "issued_at": iso_utc(cert.issued_at),
        "expires_at": iso_utc(cert.expires_at),
        "revoked_at": iso_utc(cert.revoked_at),
        "score": cert.score,
        "issued_by_id": cert.issued_by_id,
        "reason": cert.reason,
        "issuance": cert_service.certificate_issuance(cert).as_json(),
        "verification_code": cert.verification_code,
        "verification_url": cert_service.verification_link(cert.verification_code),
        "pdf_url": url_for("certificates.pdf", cert_id=cert.id, _external=True)
        if cert.file_id
        else None,
    }


def _moment(errors: dict, name: str, value: Any) -> datetime | None:
    """Parse an ISO 8601 date or date-time (naive means UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
            moment = datetime.fromisoformat(value)
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            pass
    errors[name] = ["An ISO 8601 date or date-time, e.g. 2024-05-01T09:00:00Z."]
    return None


def _id(errors: dict, name: str, value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        errors[name] = ["Must be a whole number (an id)."] if value is not None else ["Required."]
        return None
    return value


@bp.post(COLLECTION)
@api_access("certificate.issue")
def create_certification():
    data = json_object()
    errors: dict[str, list[str]] = {}
    user_id = _id(errors, "user_id", data.get("user_id"))
    course_id = _id(errors, "course_id", data.get("course_id"))
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        errors["reason"] = ["Required: why this certificate is issued by hand."]
    issued_at = _moment(errors, "issued_at", data.get("issued_at"))
    expires_at = _moment(errors, "expires_at", data.get("expires_at"))
    if errors:
        raise Invalid("Some certification fields are not valid.", errors)
    password = data.get("signature_password")
    cert = cert_service.issue_certificate_manual(
        user_id,
        course_id,
        current_actor(),
        reason,
        issued_at=issued_at,
        expires_at=expires_at,
        password=password if isinstance(password, str) else None,
    )
    location = url_for("api.get_certification", cert_id=cert.id, _external=True)
    return certification_json(cert), 201, {"Location": location}


@bp.get(ITEM)
@api_access("certificate.view")
def get_certification(cert_id: int):
    return certification_json(cert_service.get_viewable_certificate(cert_id, current_actor()))


@bp.get(PENDING)
@api_access("certificate.approve")
def list_pending_certifications():
    page = cert_service.pending_certificates(
        *clamp(request.args.get("page"), request.args.get("per_page"))
    )
    return page_body(page, [certification_json(c) for c in page.items])


def _decide(cert_id: int, decision: str):
    data = json_object()
    password, note = data.get("signature_password"), data.get("note")
    errors: dict[str, list[str]] = {}
    if password is not None and not isinstance(password, str):
        errors["signature_password"] = ["Must be text."]
    if note is not None and not isinstance(note, str):
        errors["note"] = ["Must be text."]
    if errors:
        raise Invalid("Some decision fields are not valid.", errors)
    cert = cert_service.decide_certificate(cert_id, decision, note, current_actor(), password)
    return certification_json(cert)


@bp.post(ITEM + "/approve")
@api_access("certificate.approve")
def approve_certification(cert_id: int):
    return _decide(cert_id, "approve")


@bp.post(ITEM + "/reject")
@api_access("certificate.approve")
def reject_certification(cert_id: int):
    return _decide(cert_id, "reject")


_STD = auth_errors()


def _decision(operation: str, summary: str, extra: str) -> dict:
    return {
        "parameters": [path_id("cert_id")],
        "post": {
            "operationId": operation,
            "summary": summary,
            "description": (
                "Needs `certificate.approve` (QA) and the `write` scope. Neither the issuer nor "
                f"the recipient may decide (403). {extra}"
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/CertificationDecision"}
                    }
                },
            },
            "responses": {
                "200": json_response("Certification", "The certificate as decided."),
                "400": _problem("The body is not a JSON object, or the CSRF header is missing."),
                **auth_errors("Not QA, the token's scope, or the issuer or recipient deciding."),
                "404": _problem("No such certification."),
                "409": _problem("The certificate is not pending approval."),
                "422": _problem("Invalid fields (a rejection without `note`) or a wrong password."),
                "429": _problem("Locked out after too many failed passwords."),
            },
        },
    }


OPENAPI_PATHS: dict = {
    "/api/training/certifications": {
        "post": {
            "operationId": "createCertification",
            "summary": "Issue a certificate by hand",
            "description": (
                "Needs `certificate.issue` (admin, HR, trainer) and the `write` scope; signed "
                "with the caller's password (`signature_password`). Not tied to an enrollment; "
                "the reason is kept in the audit trail and shown with the certificate. Nobody "
                "issues one to themselves (403). Without `expires_at` the expiry follows the "
                "course's validity (none: never expires). Dated further back than "
                "CERTIFICATE_BACKDATE_DAYS (default 30), it is created `pending_approval`: not "
                "valid until QA approves it."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/CertificationInput"}
                    }
                },
            },
            "responses": {
                "201": {
                    **json_response("Certification", "Issued."),
                    "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                },
                "400": _problem("The body is not a JSON object, or the CSRF header is missing."),
                **auth_errors("Role or token scope, or the certificate is for the caller."),
                "422": _problem(
                    "Invalid fields or a wrong password; `errors` maps each field to its messages."
                ),
                "429": _problem("Locked out after too many failed passwords."),
            },
        }
    },
    "/api/training/certifications/pending": {
        "get": {
            "operationId": "listPendingCertifications",
            "summary": "Manual certificates pending QA approval",
            "description": (
                "Needs `certificate.approve` (QA) and the `write` scope. Back-dated "
                "manual certificates waiting for a decision, oldest first; `Link` header for "
                "paging."
            ),
            "parameters": paging_params(),
            "responses": {
                "200": page_response("CertificationPage", "A page of pending certificates."),
                **_STD,
            },
        }
    },
    "/api/training/certifications/{cert_id}/approve": _decision(
        "approveCertification",
        "Approve a back-dated manual certificate (e-signed)",
        'Signed "approved" with the caller\'s password; the certificate becomes valid.',
    ),
    "/api/training/certifications/{cert_id}/reject": _decision(
        "rejectCertification",
        "Reject a back-dated manual certificate (e-signed)",
        'Signed "reviewed" with the caller\'s password; `note` (why) is required.',
    ),
    "/api/training/certifications/{cert_id}": {
        "parameters": [path_id("cert_id")],
        "get": {
            "operationId": "getCertification",
            "summary": "One certification",
            "description": (
                "The owner, their manager, and HR, QA, admins and trainers may read it; "
                "anyone else gets 403."
            ),
            "responses": {
                "200": json_response("Certification", "The certification."),
                **_STD,
                "404": _problem("No such certification."),
            },
        },
    },
}

OPENAPI_SCHEMAS: dict = {
    "CertificationInput": {
        "type": "object",
        "properties": {
            "user_id": {"type": "integer"},
            "course_id": {"type": "integer"},
            "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
            "issued_at": {
                **DATE_TIME_OR_NULL,
                "description": "ISO 8601 date or date-time; default now.",
            },
            "expires_at": {
                **DATE_TIME_OR_NULL,
                "description": "ISO 8601; default from the course's validity months.",
            },
            "signature_password": {
                "type": "string",
                "description": "The caller's password: the issuer's electronic signature.",
            },
        },
        "required": ["user_id", "course_id", "reason", "signature_password"],
    },
    "CertificationDecision": {
        "type": "object",
        "properties": {
            "signature_password": {
                "type": "string",
                "description": "The caller's password: the QA person's electronic signature.",
            },
            "note": {
                "type": ["string", "null"],
                "maxLength": 2000,
                "description": "Why; required to reject.",
            },
        },
        "required": ["signature_password"],
    },
    "CertificationIssuance": {
        "type": "object",
        "description": "How the certificate was issued, as the verify page says it.",
        "properties": {
            "kind": {"type": "string", "enum": ["completion", "manual", "imported"]},
            "on": {
                "type": "string",
                "format": "date-time",
                "description": "Completed on (completion), or the issue date.",
            },
            "issued_by": {"type": ["string", "null"], "description": "Manual: the issuer."},
            "reason": {"type": ["string", "null"], "description": "Manual: why."},
            "approval": {
                "type": ["string", "null"],
                "enum": ["pending", "approved", "rejected", None],
                "description": "Back-dated manual certificates: QA's decision; null otherwise.",
            },
            "decided_by": {"type": ["string", "null"]},
            "decided_at": {**DATE_TIME_OR_NULL, "description": "When QA signed the decision."},
            "decision_note": {"type": ["string", "null"]},
            "summary": {"type": "string"},
        },
        "required": ["kind", "on", "approval", "summary"],
    },
    "CertificationPage": page_schema("Certification"),
    "Certification": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "number": {"type": "string", "examples": ["CAD-2025-0000042", "CAD-M-0000007"]},
            "user_id": {"type": "integer"},
            "user_name": {"type": "string"},
            "course_id": {"type": "integer"},
            "course_code": {"type": "string"},
            "course_title": {"type": "string"},
            "course_version": {"type": "integer"},
            "enrollment_id": {
                "type": ["integer", "null"],
                "description": "null for certificates issued by hand.",
            },
            "status": {"type": "string", "enum": list(cert_service.CERTIFICATE_STATUSES)},
            "approval_status": {
                "type": ["string", "null"],
                "enum": ["pending", "approved", "rejected", None],
                "description": "null: no approval needed (not back-dated beyond the window).",
            },
            "issued_at": {"type": "string", "format": "date-time"},
            "expires_at": {**DATE_TIME_OR_NULL, "description": "null: never expires."},
            "revoked_at": DATE_TIME_OR_NULL,
            "score": {"type": ["number", "null"]},
            "issued_by_id": {"type": ["integer", "null"]},
            "reason": {"type": ["string", "null"]},
            "issuance": {"$ref": "#/components/schemas/CertificationIssuance"},
            "verification_code": {"type": "string"},
            "verification_url": {"type": "string", "format": "uri"},
            "pdf_url": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "Download link (session); null until the PDF is rendered.",
            },
        },
        "required": [
            "id",
            "number",
            "user_id",
            "course_id",
            "status",
            "issued_at",
            "expires_at",
            "issuance",
            "verification_url",
        ],
    },
}

openapi.register(OPENAPI_PATHS, OPENAPI_SCHEMAS)
