"""CLI: service accounts and their API tokens (`flask create-service-account "Order system"
--role trainer`, then `flask create-api-token ACCOUNT --scope read --scope write`).

The command line acts as no person, so it mints tokens for service accounts only: a person mints
their own on My API tokens (issue 16).
"""

from __future__ import annotations

import sys

import click
from flask import Flask

from app.people.models import ROLES, TOKEN_SCOPES


def _fail(exc) -> None:
    for field, messages in exc.errors.items():
        click.echo(f"error: {field}: {' '.join(messages)}", err=True)
    if not exc.errors:
        click.echo(f"error: {exc.detail}", err=True)
    sys.exit(1)


def register(app: Flask) -> None:
    @app.cli.command("create-service-account")
    @click.argument("name")
    @click.option(
        "--role",
        "roles",
        multiple=True,
        type=click.Choice(ROLES),
        default=("employee",),
        show_default=True,
        help="What its tokens may do; repeat for several roles.",
    )
    def create_service_account_command(name, roles):
        """Create the service account NAME and print its id and email (for create-api-token)."""
        from app.people.service_accounts import create_service_account
        from app.platform.errors import DomainError

        try:
            account = create_service_account(name, list(roles), actor=None)
        except DomainError as exc:
            _fail(exc)
        click.echo(f"{account.id} {account.email} {account.name}")

    @app.cli.command("create-api-token")
    @click.argument("account")
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
    def create_api_token_command(account, scopes, name, expires_days):
        """Issue an API token for the service account ACCOUNT (its id or email) and print only
        the token. A person's account is refused: people mint their own tokens."""
        from app.people.tokens import create_api_token, create_api_token_for_email
        from app.platform.errors import DomainError

        try:
            if account.isdigit():
                user_id = int(account) if int(account) < 2**31 else None
                _, plaintext = create_api_token(
                    user_id, name, list(scopes), actor=None, expires_days=expires_days
                )
            else:
                _, plaintext = create_api_token_for_email(
                    account, name, list(scopes), actor=None, expires_days=expires_days
                )
        except DomainError as exc:
            _fail(exc)
        click.echo(plaintext)
