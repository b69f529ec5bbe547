"""CLI: `flask compliance-run` runs the requirement engine, takes today's snapshot and rebuilds
the stored statuses."""

from __future__ import annotations

import time

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("compliance-run")
    @click.option("--no-snapshot", is_flag=True, help="Only run the requirement engine.")
    @click.option(
        "--backfill-months",
        type=click.IntRange(0, 36),
        default=0,
        help="Also snapshot each past month end that has none (a new install's trend).",
    )
    def compliance_run_command(no_snapshot: bool, backfill_months: int) -> None:
        """Create the assignments and enrollments the competency matrix calls for (idempotent)."""
        from app.compliance.engine import run_requirement_engine
        from app.compliance.snapshots import backfill_snapshots, take_snapshot

        started = time.perf_counter()
        result = run_requirement_engine(cause="nightly run")
        took = time.perf_counter() - started
        click.echo(
            f"Requirement engine: {result.assignments} assignments, {result.renewals} renewals, "
            f"{result.enrollments} enrollments in {took:.2f} s."
        )
        if not no_snapshot:
            click.echo(f"Snapshot: {take_snapshot()} rows.")
        if backfill_months:
            click.echo(f"Backfilled {backfill_snapshots(backfill_months)} month ends.")
        from app.audit.chain import seal_pending
        from app.compliance.status_store import rebuild

        seal_pending(wait=True)
        click.echo(f"Stored statuses: {rebuild()} rows.")
