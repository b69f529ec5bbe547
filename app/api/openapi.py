"""The OpenAPI 3.1 document of the API; a test keeps its paths equal to the URL map."""

from __future__ import annotations

from app.api.auth import api_access
from app.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from app.api.idempotency import MAX_LENGTH as IDEMPOTENCY_KEY_LENGTH
from app.api.openapi_parts import problem
from app.people.models import TOKEN_SCOPES
from app.people.permissions import PUBLIC

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "Cadre API",
        "version": "1",
        "description": (
            "Training courses of Cadre. Authenticate with `Authorization: Bearer <token>` "
            "(admins issue tokens) or a browser session; cookie-session writes need the "
            "`X-CSRFToken` header. Errors are RFC 9457 `application/problem+json`. Every POST "
            "takes an `Idempotency-Key` header, so a retry cannot write twice. Each token (or "
            "signed-in person) has a request budget per minute, and a stricter one for writes; "
            "over it, the answer is 429 with `Retry-After`."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    "paths": {
        "/api/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "tags": ["this reference"],
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
        "/api/docs": {
            "get": {
                "operationId": "getApiReference",
                "tags": ["this reference"],
                "summary": "This document as a readable HTML page",
                "security": [],
                "responses": {
                    "200": {
                        "description": "The API reference, grouped by resource.",
                        "content": {"text/html": {}},
                    }
                },
            }
        },
    },
    "components": {
        "parameters": {
            "IdempotencyKey": {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "schema": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": IDEMPOTENCY_KEY_LENGTH,
                    "pattern": "^[ -~]+$",
                },
                "description": (
                    "A key of your choosing (a UUID, say), new for each new request. A retry "
                    "with the same key and the same request within 24 hours gets the first "
                    "answer again (with `Idempotent-Replayed: true`) and writes nothing more; "
                    "the same key with another request is a 422; a retry while the first is "
                    "still being served is a 409. Keys are your token's (or your session's) "
                    "own. A 5xx, 409 or 429 answer is not kept, so the retry runs afresh."
                ),
            }
        },
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": f"An API token (`cadre_...`); scopes: {', '.join(TOKEN_SCOPES)}.",
            },
            "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "cadre_session"},
        },
        "schemas": {
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


IDEMPOTENCY_KEY = {"$ref": "#/components/parameters/IdempotencyKey"}
OPERATIONS = ("get", "put", "post", "delete", "patch")


def _shell_answers(paths: dict) -> None:
    """Declare what the API shell adds to every operation: the rate limit's 429, and on a POST
    the `Idempotency-Key` header with the answers it can give."""
    for item in paths.values():
        for method in OPERATIONS:
            op = item.get(method)
            if op is None:
                continue
            # Copies: domains may share one responses dict or parameter list between operations.
            responses = op["responses"] = dict(op.get("responses", {}))
            too_many = responses.get("429") or problem(
                "Over the rate limit; retry after `Retry-After` seconds."
            )
            responses["429"] = {
                **too_many,
                "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
            }
            if method != "post" or IDEMPOTENCY_KEY in op.get("parameters", []):
                continue
            op["parameters"] = [*op.get("parameters", []), IDEMPOTENCY_KEY]
            responses.setdefault("400", problem("Malformed request or `Idempotency-Key`."))
            responses.setdefault(
                "409", problem("A request with this `Idempotency-Key` is still being served.")
            )
            responses.setdefault(
                "422", problem("Invalid input, or an `Idempotency-Key` reused for another request.")
            )


def register(paths: dict, schemas: dict | None = None) -> None:
    """Add a domain's paths and schemas (declared beside its routes, so the document and the
    code stay in step)."""
    _shell_answers(paths)
    DOCUMENT["paths"].update(paths)
    DOCUMENT["components"]["schemas"].update(schemas or {})


@api_access(PUBLIC)
def openapi_document():
    """GET /api/openapi.json: the document as the domains have registered it."""
    return DOCUMENT
