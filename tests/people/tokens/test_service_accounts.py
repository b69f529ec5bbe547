"""Service accounts act only through their tokens: no password sign-in, no e-signature, no
training (issue 16)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.signatures import check_signer
from app.classroom.booking import register
from app.compliance.statuses import Scope
from app.extensions import db
from app.learning.enrollments import enroll_user, enrollable_people
from app.people import auth, users
from app.people.models import User
from app.people.service_accounts import create_service_account
from app.platform.errors import Forbidden, Invalid
from tests.classroom.sessions.conftest import schedule
from tests.helpers.factories import password_hash
from tests.learning.factories import CourseFactory
from tests.people.factories import ServiceAccountFactory, UserFactory


def test_created_named_as_such_without_a_password_by_admins_only(app):
    admin = UserFactory(roles=["admin"])
    account = create_service_account("Order system", ["trainer", "hr"], admin)
    assert (account.kind, account.name, account.password_hash) == (
        "service",
        "Order system (service account)",
        None,
    )
    assert account.roles == {"trainer", "hr"}
    with pytest.raises(Invalid) as exc:
        create_service_account("Order system (service account)", ["trainer"], admin)
    assert "name" in exc.value.errors
    with pytest.raises(Forbidden):
        create_service_account("Sneaky", ["admin"], UserFactory(roles=["hr"]))
    with pytest.raises(Invalid) as exc:
        create_service_account("No roles", [], admin)
    assert "roles" in exc.value.errors
    assert db.session.scalar(select(User).where(User.name == "Sneaky (service account)")) is None


def test_never_signs_in_or_gets_a_password(app):
    account = ServiceAccountFactory()
    account.password_hash = password_hash()  # forced onto the row by hand
    db.session.commit()
    assert auth.authenticate(account.email, "password", "10.0.0.1") is None
    with pytest.raises(Invalid) as exc:
        users.update_user(
            account.id,
            {"email": account.email, "name": account.name, "password": "a long new secret"},
            actor=UserFactory(roles=["admin"]),
        )
    assert "password" in exc.value.errors


def test_never_e_signs(app):
    account = ServiceAccountFactory(roles=["qa"])
    with pytest.raises(Invalid) as exc:
        check_signer(account, "password")
    assert "service account" in exc.value.detail


def test_never_takes_training(app):
    account = ServiceAccountFactory(roles=["trainer"])
    course = CourseFactory()
    with pytest.raises(Invalid):
        enroll_user(account.id, course.id, actor=UserFactory(roles=["hr"]))
    trainer = UserFactory(roles=["trainer"])
    session = schedule(trainer, course)
    with pytest.raises(Invalid):
        register(session.id, trainer, {"user_id": account.id})
    hr = UserFactory(roles=["hr"])
    assert account.id not in {u.id for u in enrollable_people(hr)}
    assert (
        db.session.scalars(select(User.id).where(*Scope().user_filters())).all().count(account.id)
        == 0
    )
