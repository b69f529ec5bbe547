"""Certifications API (seed 1 paths): issue one by hand, read one; QA's list of back-dated
manual certificates pending approval, and its e-signed approval or rejection of one.

The bodies are pydantic models (app.api.schemas): they validate the input, shape the output
and, with OPENAPI_PATHS, join the API's OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import request, url_for
from pydantic import Field, field_validator

from app.api import bp, page_body
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import (
    auth_errors,
    json_response,
    page_response,
    paging_errors,
    paging_params,
    path_id,
)
from app.api.openapi_parts import problem as _problem
from app.api.schemas import (
    DateTimeText,
    Id,
    Input,
    IsoMoment,
    Output,
    Page,
    Text,
    UriText,
    body,
    dump,
    parse,
    register_models,
)
from app.learning import certificates as cert_service
from app.learning.models import Certification as CertificationRecord
from app.platform.pagination import clamp
from app.platform.timefmt import iso_utc

COLLECTION = "/training/certifications"
ITEM = "/training/certifications/<int(max=2147483647):cert_id>"
PENDING = "/training/certifications/pending"

Approval = Literal["pending", "approved", "rejected"]
CertificateStatus = Literal[cert_service.CERTIFICATE_STATUSES]


# --- bodies ----------------------------------------------------------------------------------


class CertificationInput(Input):
    user_id: Id
    course_id: Id
    reason: Annotated[Text, Field(min_length=1)]
    issued_at: Annotated[
        IsoMoment | None, Field(description="ISO 8601 date or date-time; default now.")
    ] = None
    expires_at: Annotated[
        IsoMoment | None,
        Field(description="ISO 8601; default from the course's validity months."),
    ] = None
    signature_password: Annotated[
        str, Field(description="The caller's password: the issuer's electronic signature.")
    ]

    @field_validator("reason")
    @classmethod
    def _reason_said(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("Required: why this certificate is issued by hand.")
        return reason


class CertificationDecision(Input):
    signature_password: Annotated[
        str, Field(description="The caller's password: the QA person's electronic signature.")
    ]
    note: Annotated[Text | None, Field(description="Why; required to reject.")] = None


class CertificationIssuance(Output):
    """How the certificate was issued, as the verify page says it."""

    kind: Literal["completion", "manual", "imported"]
    on: Annotated[DateTimeText, Field(description="Completed on (completion), or the issue date.")]
    issued_by: Annotated[str | None, Field(description="Manual: the issuer.")]
    reason: Annotated[str | None, Field(description="Manual: why.")]
    approval: Annotated[
        Approval | None,
        Field(description="Back-dated manual certificates: QA's decision; null otherwise."),
    ]
    decided_by: str | None
    decided_at: Annotated[DateTimeText | None, Field(description="When QA signed the decision.")]
    decision_note: str | None
    summary: str


class Certification(Output):
    id: int
    number: Annotated[str, Field(examples=["CAD-2025-0000042", "CAD-M-0000007"])]
    user_id: int
    user_name: str
    course_id: int
    course_code: str
    course_title: str
    course_version: int
    enrollment_id: Annotated[int | None, Field(description="null for certificates issued by hand.")]
    status: CertificateStatus
    approval_status: Annotated[
        Approval | None,
        Field(description="null: no approval needed (not back-dated beyond the window)."),
    ]
    issued_at: DateTimeText
    expires_at: Annotated[DateTimeText | None, Field(description="null: never expires.")]
    revoked_at: DateTimeText | None
    score: float | None
    issued_by_id: int | None
    reason: str | None
    issuance: CertificationIssuance
    verification_code: str
    verification_url: UriText
    pdf_url: Annotated[
        UriText | None,
        Field(description="Download link (session); null until the PDF is rendered."),
    ]


class CertificationPage(Page):
    items: list[Certification]


def certification_fields(cert: CertificationRecord) -> dict[str, Any]:
    """The fields of a certification's one JSON shape (`Certification`)."""
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


def certification_json(cert: CertificationRecord) -> dict[str, Any]:
    """The one JSON shape of a certification."""
    return dump(Certification, certification_fields(cert))


# --- routes ----------------------------------------------------------------------------------


@bp.post(COLLECTION)
@api_access("certificate.issue")
def create_certification():
    data = parse(CertificationInput)
    cert = cert_service.issue_certificate_manual(
        data.user_id,
        data.course_id,
        current_actor(),
        data.reason,
        issued_at=data.issued_at,
        expires_at=data.expires_at,
        password=data.signature_password,
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
    answer, status, headers = page_body(page, [certification_fields(c) for c in page.items])
    return dump(CertificationPage, answer), status, headers


def _decide(cert_id: int, decision: str):
    data = parse(CertificationDecision)
    cert = cert_service.decide_certificate(
        cert_id, decision, data.note, current_actor(), data.signature_password
    )
    return certification_json(cert)


@bp.post(ITEM + "/approve")
@api_access("certificate.approve")
def approve_certification(cert_id: int):
    return _decide(cert_id, "approve")


@bp.post(ITEM + "/reject")
@api_access("certificate.approve")
def reject_certification(cert_id: int):
    return _decide(cert_id, "reject")


# --- OpenAPI ---------------------------------------------------------------------------------

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
            "requestBody": body(CertificationDecision),
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
            "requestBody": body(CertificationInput),
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
                **paging_errors(),
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

register_models(OPENAPI_PATHS, CertificationInput, CertificationDecision, CertificationPage)
