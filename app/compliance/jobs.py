"""Compliance jobs: the requirement engine on every relevant change and nightly."""

from __future__ import annotations

from app.compliance.events import engine_ran
from app.platform.jobs import job


@job("compliance.run_engine", queue="compliance")
def run_engine(
    cause: str = "nightly run",
    user_ids: list[int] | None = None,
    requirement_ids: list[int] | None = None,
) -> dict:
    """Create the assignments and enrollments the competency matrix calls for (idempotent)."""
    from app.compliance.engine import run_requirement_engine
    from app.compliance.statuses import Scope

    scope = Scope(user_ids=user_ids, requirement_ids=requirement_ids)
    result = run_requirement_engine(scope=scope, cause=cause)
    out = {
        "assignments": result.assignments,
        "renewals": result.renewals,
        "enrollments": result.enrollments,
    }
    for extra in engine_ran.send(user_ids=user_ids, requirement_ids=requirement_ids):
        out.update(extra or {})
    return out


@job("compliance.nightly", queue="compliance", schedule="NIGHTLY_CRON", timeout=3600)
def nightly() -> dict:
    """The nightly pass: the whole organisation through the engine, today's snapshot, then
    the stored statuses rebuilt for the new day."""
    from app.audit.chain import seal_pending
    from app.compliance.snapshots import take_snapshot
    from app.compliance.status_store import rebuild

    out = run_engine("nightly run")
    out["snapshot_rows"] = take_snapshot()
    seal_pending(wait=True)  # the engine's rows, so the rebuild leaves nothing to refresh
    out["stored_statuses"] = rebuild()
    return out


@job("compliance.rebuild_statuses", queue="compliance")
def rebuild_statuses() -> dict:
    """Rebuild the stored statuses (after a requirement, program or course changed)."""
    from app.compliance.status_store import rebuild

    return {"stored_statuses": rebuild()}
