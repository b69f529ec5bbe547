"""Fixtures for the notification tests: a real SMTP server on loopback, people, a helper to
run whatever the tests queued (a no-op without Redis: jobs ran inline)."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.helpers.jobs import run_queued_jobs
from tests.people.factories import UserFactory

BASE = "https://cadre.example.com"


class Inbox:
    """An aiosmtpd handler keeping every message it accepts, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    """A real SMTP server on a free loopback port; the app sends to it."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=controller.port,
        SMTP_TIMEOUT=5,
        PUBLIC_BASE_URL=BASE,
        MAIL_FROM="Cadre <cadre@example.com>",
    )
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def dead_smtp(app):
    """SMTP pointed at a loopback port nobody listens on: every send fails."""
    app.config.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2, PUBLIC_BASE_URL=BASE
    )


@pytest.fixture
def drain(app):
    return lambda: run_queued_jobs(app)


@pytest.fixture
def person(app):
    return UserFactory(name="Pat Person", email="pat@example.com")


@pytest.fixture
def other(app):
    return UserFactory(name="Olly Other", email="olly@example.com")
