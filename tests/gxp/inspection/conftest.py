"""Inspection-export helpers: request an export, run the queue, open what it stored."""

from __future__ import annotations

import json
import zipfile
from io import BytesIO

from app.extensions import db
from app.gxp import inspection as svc
from app.gxp.models import InspectionExport
from app.platform.storage import get_storage
from tests.gxp.records.conftest import History, history  # noqa: F401  (a person with a full history)
from tests.helpers.jobs import run_queued_jobs

__all__ = ["History", "built", "export_zip", "export_document"]


def built(app, data: dict, actor) -> InspectionExport:
    """Request an export as `actor`, let the job run (inline or on Redis), return it fresh."""
    export_id = svc.request_export(data, actor).id
    run_queued_jobs(app)
    db.session.expire_all()
    return svc.get_export(export_id)


def export_zip(export: InspectionExport) -> zipfile.ZipFile:
    assert export.status == "done", export.error
    return zipfile.ZipFile(BytesIO(get_storage().get(export.file.key)))


def export_document(export: InspectionExport) -> dict:
    return json.loads(export_zip(export).read("export.json"))
