"""`flask create-api-token` prints one working token and nothing else."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.people.models import ApiToken
from tests.helpers.api import bearer
from tests.people.factories import UserFactory


def test_cli_prints_only_a_working_token(app, runner, client):
    user = UserFactory(roles=["trainer"], email="bot@example.com")
    result = runner.invoke(
        args=[
            "create-api-token",
            "bot@example.com",
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
    assert (token.user_id, token.name, token.scope_set) == (user.id, "bot", {"read", "write"})
    resp = client.post(
        "/api/training/courses",
        json={"code": "CLI-1", "title": "From CLI"},
        headers=bearer(lines[0]),
    )
    assert resp.status_code == 201


def test_cli_default_scope_is_read(app, runner, client):
    UserFactory(roles=["trainer"], email="reader@example.com")
    result = runner.invoke(args=["create-api-token", "reader@example.com"])
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert client.get("/api/training/courses", headers=bearer(token)).status_code == 200
    resp = client.post(
        "/api/training/courses", json={"code": "X", "title": "x"}, headers=bearer(token)
    )
    assert resp.status_code == 403


def test_cli_errors_go_to_stderr_with_nonzero_exit(app, runner):
    result = runner.invoke(args=["create-api-token", "ghost@example.com", "--scope", "read"])
    assert result.exit_code != 0
    assert result.stdout == ""
    assert "No account" in result.stderr
    result = runner.invoke(args=["create-api-token", "ghost@example.com", "--scope", "root"])
    assert result.exit_code != 0 and result.stdout == ""
    assert db.session.scalars(select(ApiToken)).all() == []
