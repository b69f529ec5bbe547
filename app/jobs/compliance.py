"""Compliance jobs: the requirement engine on every relevant change and nightly."""

from __future__ import annotations


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


def nightly() -> dict:
    """The nightly pass: the whole organisation through the engine, then today's snapshot."""
    from app.services.compliance import take_snapshot

    out = run_engine("nightly run")
    out["snapshot_rows"] = take_snapshot()
    return out
