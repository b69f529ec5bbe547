"""`flask create-service-account` and `flask create-api-token`: a working token printed once,
for service accounts only (the command line acts as no person, issue 16)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.people.models import ApiToken, User
from app.platform.audit import AuditLog
from tests.helpers.api import bearer
from tests.people.factories import ServiceAccountFactory, UserFactory


def test_cli_creates_a_service_account_and_prints_a_working_token(app, runner, client):
    result = runner.invoke(args=["create-service-account", "Course sync", "--role", "trainer"])
    assert result.exit_code == 0, result.output
    account_id, email, name = result.stdout.strip().split(" ", 2)
    account = db.session.get(User, int(account_id))
    assert (account.kind, account.email, account.name) == ("service", email, name)
    assert name == "Course sync (service account)" and account.roles == {"trainer"}
    result = runner.invoke(
        args=[
            "create-api-token",
            account_id,
            "--scope",
            "read",
            "--scope",
            "write",
            "--name",
            "bot",
        ]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cadre_")
    token = db.session.scalar(select(ApiToken))
    assert (token.user_id, token.name, token.scope_set) == (account.id, "bot", {"read", "write"})
    resp = client.post(
        "/api/training/courses",
        json={"code": "CLI-1", "title": "From CLI"},
        headers=bearer(lines[0]),
    )
    assert resp.status_code == 201
    minted = db.session.scalar(select(AuditLog).where(AuditLog.entity == "api_token"))
    assert (minted.actor_id, minted.means) == (None, "cli:create-api-token")


def test_cli_default_scope_is_read(app, runner, client):
    account = ServiceAccountFactory(roles=["trainer"])
    result = runner.invoke(args=["create-api-token", account.email])
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert client.get("/api/training/courses", headers=bearer(token)).status_code == 200
    resp = client.post(
        "/api/training/courses", json={"code": "X", "title": "x"}, headers=bearer(token)
    )
    assert resp.status_code == 403


def test_cli_refuses_a_token_in_a_persons_name(app, runner):
    UserFactory(roles=["admin"], email="boss@example.com")
    result = runner.invoke(args=["create-api-token", "boss@example.com", "--scope", "admin"])
    assert result.exit_code != 0 and result.stdout == ""
    assert "Nobody mints a token for another person" in result.stderr
    assert db.session.scalars(select(ApiToken)).all() == []


def test_cli_errors_go_to_stderr_with_nonzero_exit(app, runner):
    result = runner.invoke(args=["create-api-token", "ghost@example.com", "--scope", "read"])
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "No account" in result.stderr
    result = runner.invoke(args=["create-api-token", "ghost@example.com", "--scope", "root"])
    assert result.exit_code != 0 and result.stdout == ""
    result = runner.invoke(args=["create-api-token", "99999999999999999999"])
    assert result.exit_code != 0 and "No such user" in result.stderr
    result = runner.invoke(args=["create-service-account", " ", "--role", "trainer"])
    assert result.exit_code != 0 and "name" in result.stderr
    assert db.session.scalars(select(ApiToken)).all() == []
