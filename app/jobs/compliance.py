"""Compliance jobs: the requirement engine on every relevant change and nightly."""

from __future__ import annotations

from app.platform.jobs import job


@job("compliance.run_engine", queue="compliance")
def run_engine(
    cause: str = "nightly run",
    user_ids: list[int] | None = None,
    requirement_ids: list[int] | None = None,
) -> dict:
    """Create the assignments and enrollments the competency matrix calls for (idempotent)."""
    from app.services.compliance import Scope, run_requirement_engine
    from app.services.documents import assign_current_versions

    scope = Scope(user_ids=user_ids, requirement_ids=requirement_ids)
    result = run_requirement_engine(scope=scope, cause=cause)
    out = {
        "assignments": result.assignments,
        "renewals": result.renewals,
        "enrollments": result.enrollments,
    }
    if requirement_ids is None:  # people changed (hire, role change, import) or nightly
        out["document_enrollments"] = assign_current_versions(user_ids)
    return out


@job("compliance.nightly", queue="compliance")
def nightly() -> dict:
    """The nightly pass: the whole organisation through the engine, today's snapshot, then
    the stored statuses rebuilt for the new day."""
    from app.services.audit_chain import seal_pending
    from app.services.compliance import take_snapshot
    from app.services.status_store import rebuild

    out = run_engine("nightly run")
    out["snapshot_rows"] = take_snapshot()
    seal_pending(wait=True)  # the engine's rows, so the rebuild leaves nothing to refresh
    out["stored_statuses"] = rebuild()
    return out


@job("compliance.rebuild_statuses", queue="compliance")
def rebuild_statuses() -> dict:
    """Rebuild the stored statuses (after a requirement, program or course changed)."""
    from app.services.status_store import rebuild

    return {"stored_statuses": rebuild()}
