"""Shared API test helpers and fixtures: roles, real tokens, a bearer header (a plugin of
tests/conftest.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.people.tokens import create_api_token
from app.platform import clock
from tests.people.factories import UserFactory

ROLES = ("admin", "hr", "qa", "trainer", "manager", "employee", "seller")


def make_token(user, scopes=("read",), expires_days=None) -> str:
    """Issue a real token for `user` through the service and return its plaintext: minted by
    the person themself, or by the operator (no actor) for a service account."""
    actor = None if user.is_service_account else user
    _, plaintext = create_api_token(
        user.id, "test", list(scopes), actor=actor, expires_days=expires_days
    )
    return plaintext


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def trainer(app):
    return UserFactory(roles=["trainer"])


@pytest.fixture
def trainer_token(trainer):
    return make_token(trainer, ("read", "write"))


@pytest.fixture
def expired_token(app):
    user = UserFactory(roles=["trainer"])
    token, plaintext = create_api_token(user.id, "old", ["read"], actor=user, expires_days=1)
    token.expires_at = clock.now() - timedelta(minutes=1)
    db.session.commit()
    return plaintext
