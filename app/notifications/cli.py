"""CLI: `flask notifications-sweep` runs the daily reminder sweep (what the clock schedules)."""

from __future__ import annotations

import time
from datetime import date

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("notifications-sweep")
    @click.option(
        "--on",
        "on",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Measure due dates against this day instead of today (YYYY-MM-DD).",
    )
    def notifications_sweep_command(on) -> None:
        """Create due, overdue, escalation and session reminders; start their emails."""
        from app.platform.jobs import run_job

        day: date | None = on.date() if on else None
        started = time.perf_counter()
        out = run_job("notifications.daily_sweep", day)
        took = time.perf_counter() - started
        click.echo(
            f"Sweep for {out['on']}: {out['due_reminders']} due reminders, {out['overdue']} "
            f"overdue notices, {out['escalations']} escalations, {out['session_reminders']} "
            f"session reminders; {out['emails_queued']} emails ({out['resent']} resends) and "
            f"{out['digests']} digests in {out['jobs']} jobs; {took:.2f} s."
        )
