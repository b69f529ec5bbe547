"""Compliance jobs: the requirement engine on every relevant change and nightly."""

from __future__ import annotations

from app.compliance.events import engine_ran
from app.platform.jobs import job


@job("compliance.run_engine", queue="compliance")
def run_engine(
    cause: str = "nightly run",
    user_ids: list[int] | None = None,
    requirement_ids: list[int] | None = None,
    run_id: int | None = None,
) -> dict:
    """Create the assignments and enrollments the competency matrix calls for (idempotent);
    with `run_id`, in chunks of people, its progress and outcome on that job run."""
    from app.compliance.engine import run_engine_in_chunks, run_requirement_engine
    from app.compliance.statuses import Scope
    from app.platform import job_runs

    scope = Scope(user_ids=user_ids, requirement_ids=requirement_ids)
    if run_id is None:
        result = run_requirement_engine(scope=scope, cause=cause)
    else:
        result = run_engine_in_chunks(run_id, scope, cause)
    out = {
        "assignments": result.assignments,
        "renewals": result.renewals,
        "enrollments": result.enrollments,
    }
    try:
        for extra in engine_ran.send(user_ids=user_ids, requirement_ids=requirement_ids):
            out.update(extra or {})
    except Exception as exc:
        if run_id is not None:
            job_runs.fail(run_id, f"{type(exc).__name__}: {exc}")
        raise
    if run_id is not None:
        job_runs.finish(run_id, out)
    return out


@job("compliance.nightly", queue="compliance", schedule="NIGHTLY_CRON", timeout=3600)
def nightly() -> dict:
    """The nightly pass: the whole organisation through the engine, today's snapshot, then
    the stored statuses rebuilt for the new day."""
    from app.audit.chain import seal_pending
    from app.compliance.engine import ENGINE_RUN_KIND, people_in_scope
    from app.compliance.snapshots import take_snapshot
    from app.compliance.status_store import rebuild
    from app.compliance.statuses import Scope
    from app.platform import job_runs

    # One pass over everyone (fast: a handful of statements), recorded as a job run so the
    # requirements page shows when it last ran and what it made.
    run = job_runs.open_run(ENGINE_RUN_KIND, "nightly run")
    job_runs.begin(run.id, people_in_scope(Scope()))
    try:
        out = run_engine("nightly run")
    except Exception as exc:
        job_runs.fail(run.id, f"{type(exc).__name__}: {exc}")
        raise
    job_runs.finish(run.id, out)
    out["snapshot_rows"] = take_snapshot()
    seal_pending(wait=True)  # the engine's rows, so the rebuild leaves nothing to refresh
    out["stored_statuses"] = rebuild()
    return out


@job("compliance.rebuild_statuses", queue="compliance")
def rebuild_statuses() -> dict:
    """Rebuild the stored statuses (after a requirement, program or course changed)."""
    from app.compliance.status_store import rebuild

    return {"stored_statuses": rebuild()}
