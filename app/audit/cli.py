"""CLI: `flask audit seal` and `flask audit verify` (the audit trail's hash chain), and
`flask audit grant-app-role` (the app's database role, app.audit.app_role)."""

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

    app.cli.add_command(group)
