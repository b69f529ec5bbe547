"""GxP jobs: read-and-understand training on a new effective version, inspection exports."""

from __future__ import annotations

from app.platform.jobs import job


@job("documents.assign_training", queue="compliance")
def assign_training(version_id: int) -> dict:
    """Enrol every affected person in an effective version that trains; close open training
    on the versions it superseded (idempotent)."""
    from app.gxp.retraining import assign_training as run

    result = run(version_id)
    return {"assigned": result.assigned, "closed": result.closed}


@job("documents.assign_current", queue="compliance")
def assign_current(user_ids: list[int] | None = None, document_ids: list[int] | None = None) -> int:
    """Give people newly in a document's audience its current effective version (idempotent)."""
    from app.gxp.retraining import assign_current_versions

    return assign_current_versions(user_ids, document_ids)


@job("inspection.build_export")
def build_export(export_id: int) -> str:
    """Build the ZIP of an inspection export with progress; a finished one is left alone."""
    from app.gxp.inspection import build_export as build

    return build(export_id)
