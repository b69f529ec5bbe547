"""CLI: issue an API token (`flask create-api-token EMAIL --scope read --scope write`)."""

from __future__ import annotations

import sys

import click
from flask import Flask

from app.people.models import TOKEN_SCOPES


def register(app: Flask) -> None:
    @app.cli.command("create-api-token")
    @click.argument("email")
    @click.option(
        "--scope",
        "scopes",
        multiple=True,
        type=click.Choice(TOKEN_SCOPES),
        default=("read",),
        show_default=True,
        help="Repeat for several scopes.",
    )
    @click.option("--name", default="CLI token", show_default=True, help="What the token is for.")
    @click.option("--expires-days", type=click.IntRange(1, 3650), default=None, help="Lifetime.")
    def create_api_token_command(email, scopes, name, expires_days):
        """Issue an API token for EMAIL and print only the token."""
        from app.people.tokens import create_api_token_for_email
        from app.platform.errors import Invalid

        try:
            _, plaintext = create_api_token_for_email(
                email, name, list(scopes), actor=None, expires_days=expires_days
            )
        except Invalid as exc:
            for field, messages in exc.errors.items():
                click.echo(f"error: {field}: {' '.join(messages)}", err=True)
            sys.exit(1)
        click.echo(plaintext)
