"""The OpenAPI 3.1 document of the API; a test keeps its paths equal to the URL map."""

from __future__ import annotations

from app.api.auth import api_access
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
            "`X-CSRFToken` header. Errors are RFC 9457 `application/problem+json`."
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


def register(paths: dict, schemas: dict | None = None) -> None:
    """Add a domain's paths and schemas (declared beside its routes, so the document and the
    code stay in step)."""
    DOCUMENT["paths"].update(paths)
    DOCUMENT["components"]["schemas"].update(schemas or {})


@api_access(PUBLIC)
def openapi_document():
    """GET /api/openapi.json: the document as the domains have registered it."""
    return DOCUMENT
