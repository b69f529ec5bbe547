"""/api/v1/training/records/exports: request an inspection export, follow it, download it.

The download is a POST so that every download is audited (no GET writes); it answers with a
short-lived link to the ZIP. OPENAPI_PATHS and OPENAPI_SCHEMAS join the
OpenAPI document (app.api.openapi).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import request, url_for

from app.api import bp, json_object, openapi
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import DATE_TIME_OR_NULL, auth_errors, path_id
from app.api.openapi_parts import json_response as _json
from app.api.openapi_parts import problem as _problem
from app.gxp import inspection as svc
from app.gxp.inspection_build import user_ref
from app.gxp.models import EXPORT_STATUSES, InspectionExport
from app.platform.timefmt import iso_date, iso_utc

COLLECTION = "/v1/training/records/exports"
ITEM = "/v1/training/records/exports/<int(max=2147483647):export_id>"
DOWNLOAD_SECONDS = 300


def export_json(export: InspectionExport) -> dict[str, Any]:
    """The one JSON shape of an inspection export."""
    done = export.status == "done" and export.file is not None
    return {
        "id": export.id,
        "status": export.status,
        "progress": export.progress,
        "total": export.total,
        "scope": {
            "user": user_ref(export.user),
            "department": (
                {"id": export.department.id, "name": export.department.name}
                if export.department
                else None
            ),
            "date_from": iso_date(export.date_from),
            "date_to": iso_date(export.date_to),
        },
        "requested_by": user_ref(export.requested_by),
        "created_at": iso_utc(export.created_at),
        "finished_at": iso_utc(export.finished_at),
        "error": export.error,
        "file": (
            {
                "filename": export.file.filename,
                "size": export.file.size,
                "sha256": export.file.checksum,
            }
            if done
            else None
        ),
        "download": (
            {
                "method": "POST",
                "href": url_for(
                    "api.download_inspection_export", export_id=export.id, _external=True
                ),
            }
            if done
            else None
        ),
    }


@bp.post(COLLECTION)
@api_access("inspection.export")
def create_inspection_export():
    export = svc.request_export(json_object(), current_actor())
    location = url_for("api.get_inspection_export", export_id=export.id, _external=True)
    return export_json(export), 202, {"Location": location}


@bp.get(ITEM)
@api_access("inspection.export")
def get_inspection_export(export_id: int):
    return export_json(svc.get_export(export_id))


@bp.post(f"{ITEM}/download")
@api_access("inspection.export")
def download_inspection_export(export_id: int):
    url = svc.export_download_url(export_id, current_actor())
    return {"url": urljoin(request.host_url, url), "expires_in": DOWNLOAD_SECONDS}


# --- OpenAPI ---------------------------------------------------------------------------------

_ID = {"type": "integer", "minimum": 1, "maximum": 2147483647}
_PATH_ID = path_id("export_id", _ID)
_DATE = {"type": ["string", "null"], "format": "date"}
_USER = {
    "type": ["object", "null"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "name": {"type": "string"},
    },
}
_ACCESS = (
    "QA and admins (`inspection.export`); a token needs the `write` scope. The ZIP holds "
    "report.pdf, records.csv, certificates.csv, signatures.csv, audit.csv, export.json (valid "
    "against schemas/inspection-export.schema.json, shipped in the ZIP too) and manifest.json "
    "(SHA-256 of every file)."
)
_STD = auth_errors("Not QA or admin, or the token lacks `write`.")

OPENAPI_PATHS: dict = {
    "/api/v1/training/records/exports": {
        "post": {
            "operationId": "createInspectionExport",
            "summary": "Request an inspection export of training records",
            "description": (
                f"{_ACCESS} Give at least one of `person` (email) or `user_id`, "
                "`department_id`, `date_from`/`date_to` (inclusive UTC days); they combine. "
                "A job builds the ZIP; follow `Location` until `status` is `done` or `failed`."
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/InspectionExportRequest"}
                    }
                },
            },
            "responses": {
                "202": {
                    **_json("InspectionExport", "Requested; the job is building it."),
                    "headers": {"Location": {"schema": {"type": "string"}}},
                },
                "400": _problem("The body is not a JSON object."),
                **_STD,
                "422": _problem("Invalid or empty scope; `errors` maps each field to messages."),
            },
        }
    },
    "/api/v1/training/records/exports/{export_id}": {
        "parameters": [_PATH_ID],
        "get": {
            "operationId": "getInspectionExport",
            "summary": "An inspection export's status, progress and file",
            "description": f"{_ACCESS} `download` is set once the export is done.",
            "responses": {
                "200": _json("InspectionExport", "The export."),
                **_STD,
                "404": _problem("No such export."),
            },
        },
    },
    "/api/v1/training/records/exports/{export_id}/download": {
        "parameters": [_PATH_ID],
        "post": {
            "operationId": "downloadInspectionExport",
            "summary": "Record a download of the ZIP and get a short-lived link to it",
            "description": f"{_ACCESS} Every call is written to the audit trail.",
            "responses": {
                "200": _json("InspectionExportDownload", "A link valid for a few minutes."),
                **_STD,
                "404": _problem("No such export."),
                "409": _problem("The export is not done (queued, running or failed)."),
            },
        },
    },
}

OPENAPI_SCHEMAS: dict = {
    "InspectionExportRequest": {
        "type": "object",
        "properties": {
            "person": {"type": "string", "description": "The person's email."},
            "user_id": {**_ID, "description": "The person's id (instead of `person`)."},
            "department_id": _ID,
            "date_from": {"type": "string", "format": "date"},
            "date_to": {"type": "string", "format": "date"},
        },
    },
    "InspectionExport": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string", "enum": list(EXPORT_STATUSES)},
            "progress": {"type": "integer", "description": "People gathered so far."},
            "total": {"type": "integer", "description": "People in scope."},
            "scope": {
                "type": "object",
                "properties": {
                    "user": _USER,
                    "department": {
                        "type": ["object", "null"],
                        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
                    },
                    "date_from": _DATE,
                    "date_to": _DATE,
                },
            },
            "requested_by": _USER,
            "created_at": {"type": "string", "format": "date-time"},
            "finished_at": DATE_TIME_OR_NULL,
            "error": {"type": ["string", "null"], "description": "Why a failed export failed."},
            "file": {
                "type": ["object", "null"],
                "properties": {
                    "filename": {"type": "string"},
                    "size": {"type": "integer"},
                    "sha256": {"type": "string"},
                },
            },
            "download": {
                "type": ["object", "null"],
                "properties": {
                    "method": {"type": "string", "enum": ["POST"]},
                    "href": {"type": "string"},
                },
            },
        },
        "required": ["id", "status", "progress", "total", "scope", "created_at"],
    },
    "InspectionExportDownload": {
        "type": "object",
        "properties": {
            "url": {"type": "string", "description": "Short-lived link to the ZIP."},
            "expires_in": {"type": "integer", "description": "Seconds."},
        },
        "required": ["url", "expires_in"],
    },
}

openapi.register(OPENAPI_PATHS, OPENAPI_SCHEMAS)
