"""Inspection export jobs."""

from __future__ import annotations

from app.platform.jobs import job


@job("inspection.build_export")
def build_export(export_id: int) -> str:
    """Build the ZIP of an inspection export with progress; a finished one is left alone."""
    from app.services.inspection import build_export as build

    return build(export_id)
