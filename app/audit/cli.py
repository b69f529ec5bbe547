"""CLI: `flask audit seal` and `flask audit verify` (the audit trail's hash chain)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup


def register(app: Flask) -> None:
    group = AppGroup("audit", help="The audit trail's hash chain.")

    @group.command("seal")
    def seal_command():
        """Chain every audit entry that is not chained yet."""
        from app.audit.chain import seal_pending

        click.echo(f"{seal_pending(wait=True)} entries chained.")

    @group.command("verify")
    def verify_command():
        """Chain pending entries, then verify the whole chain; exit 1 at the first broken link."""
        from app.audit.chain import verify_and_record

        report = verify_and_record()
        if report.intact:
            click.echo(f"intact: {report.checked} entries verified.")
            return
        click.echo(
            f"BROKEN at entry #{report.broken_id} (chain position {report.broken_seq}): "
            f"{report.problem}. {report.checked} entries before it verified.",
            err=True,
        )
        sys.exit(1)

    app.cli.add_command(group)
