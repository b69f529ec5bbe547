"""Helpers for the course, module, upload and catalog tests."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.people.factories import UserFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(64))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(48))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(40))
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01" + bytes(range(40))
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(40))


def upload(data: bytes, filename: str) -> FileStorage:
    """A werkzeug upload as a view would receive it."""
    return FileStorage(stream=io.BytesIO(data), filename=filename)


def audit_count(entity: str | None = None, action: str | None = None) -> int:
    q = select(func.count()).select_from(AuditLog)
    if entity:
        q = q.where(AuditLog.entity == entity)
    if action:
        q = q.where(AuditLog.action == action)
    return db.session.scalar(q)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def trainer(app):
    return UserFactory(roles=["trainer"], name="Tess Trainer")


@pytest.fixture
def learner(app):
    return UserFactory(roles=["employee"], name="Lee Learner")


@pytest.fixture
def as_trainer(client, auth, trainer):
    """A client signed in as a trainer; returns the CSRF token for posts."""
    auth.login(trainer)
    return csrf(client, "/home")


@pytest.fixture
def as_learner(client, auth, learner):
    auth.login(learner)
    return csrf(client, "/home")
