"""CLI: `flask audit seal`, `verify`, `checkpoint` and `rotate-key` (the audit trail's chain),
and `flask audit grant-app-role` (the app's database role, app.audit.app_role)."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup


def register(app: Flask) -> None:
    group = AppGroup("audit", help="The audit trail's hash chain.")

    @group.command("seal")
    def seal_command():
        """Chain every authentic audit entry that is not chained yet."""
        from app.audit.chain import seal_pending

        click.echo(f"{seal_pending(wait=True)} entries chained.")

    @group.command("verify")
    def verify_command():
        """Chain pending entries, verify the whole trail against its keys and checkpoints,
        publish a checkpoint; list every finding and exit 1 if there is any."""
        from app.audit.chain import verify_and_record

        report = verify_and_record()
        if report.intact:
            click.echo(
                f"intact: {report.checked} entries verified ({report.legacy} sealed before keys),"
                f" {report.checkpoints} checkpoints compared; head at position {report.count}:"
                f" {report.head}."
            )
            return
        click.echo(f"BROKEN: {report.problem}", err=True)
        for finding in report.findings:
            click.echo(f"  {finding}", err=True)
        hidden = report.total_findings - len(report.findings)
        if hidden:
            click.echo(f"  ... and {hidden} more", err=True)
        click.echo(f"{report.checked} entries verified.", err=True)
        sys.exit(1)

    @group.command("grant-app-role")
    @click.argument("role", required=False)
    def grant_app_role_command(role: str | None):
        """As the schema's owner (DATABASE_OWNER_URL), let ROLE use every table but only read
        and append to the audit trail. ROLE defaults to DATABASE_URL's user. Idempotent: run it
        after each `flask db upgrade`."""
        from sqlalchemy import make_url

        from app.audit.app_role import grant_app_role
        from app.platform.db import owner_engine
        from app.platform.errors import Invalid

        role = role or make_url(app.config["SQLALCHEMY_DATABASE_URI"]).username
        if not role:
            raise click.UsageError("Name the app's role: DATABASE_URL has no user.")
        try:
            with owner_engine().begin() as connection:
                done = grant_app_role(connection, role)
        except Invalid as exc:
            raise click.ClickException(exc.detail) from exc
        click.echo(
            f"{done.role} may read and write {done.schema}'s tables owned by {done.owner}, and only"
            " read and append to the audit trail."
        )

    @group.command("checkpoint")
    def checkpoint_command():
        """Publish a signed checkpoint of the chain's head to object storage."""
        from app.audit.chain import checkpoint_head

        key = checkpoint_head()
        click.echo(f"checkpoint {key} written." if key else "the head is checkpointed already.")

    @group.command("rotate-key")
    def rotate_key_command():
        """Put a new current audit key in front of the key file; older keys stay to verify
        what they sealed. Restart every process afterwards (they also pick it up on their own
        when they meet a row under the new key)."""
        from app.platform.audit_keys import KeyRingError, rotate

        try:
            key_id = rotate(current_app.config)
        except KeyRingError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"new current audit key {key_id}.")

    app.cli.add_command(group)
