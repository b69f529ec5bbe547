"""After-images are read back from what was written (issue 16): for a representative set of
services, the latest audit row's after-image equals a fresh SELECT of the row it describes.

The finding: after an admin's password reset the after-image said must_change_password false
while the row held true."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from app.compliance import waivers
from app.compliance.models import Waiver
from app.extensions import db
from app.learning.enrollments import enroll_user, record_progress
from app.learning.models import Certification, Course, Enrollment
from app.people import users
from app.people.models import ApiToken, Department, User
from app.people.org import create_department
from app.people.service_accounts import create_service_account
from app.people.tokens import create_api_token, revoke_api_token
from app.platform.audit import AuditLog
from tests.compliance.factories import RequirementFactory
from tests.helpers.jobs import run_queued_jobs
from tests.helpers.records import today
from tests.learning.factories import CourseFactory, ModuleFactory
from tests.people.factories import JobRoleFactory, UserFactory


def _stored(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def assert_after_image_is_the_row(entity: str, model, **shown) -> AuditLog:
    """The newest audit row about `entity` agrees, column by column, with the row itself
    (`shown`: how the image writes a column, e.g. a token's scopes as a list)."""
    row = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id.desc())
    ).first()
    assert row is not None and isinstance(row.after, dict), entity
    table = model.__table__
    fresh = db.session.execute(
        select(table).where(table.c.id == int(row.entity_id))
    ).mappings().one()  # fmt: skip
    compared = {k: v for k, v in row.after.items() if k in table.c}
    assert compared, f"{entity}: no column in the after-image {row.after}"
    expected = {k: shown.get(k, _stored)(fresh[k]) for k in compared}
    assert compared == expected, entity
    return row


@pytest.fixture
def admin(app):
    return UserFactory(roles=["admin"])


def test_an_admin_password_reset_records_the_forced_change(admin):
    person = UserFactory()
    users.update_user(
        person.id,
        {"email": person.email, "name": person.name, "password": "a new long secret phrase"},
        actor=admin,
    )
    row = assert_after_image_is_the_row("user", User)
    assert row.after["must_change_password"] is True
    assert row.after["password changed"] is True


def test_user_create_and_update(admin):
    made = users.create_user(
        {"email": "new@example.com", "name": "New Person", "password": "a long first secret"},
        actor=admin,
    )
    assert assert_after_image_is_the_row("user", User).after["must_change_password"] is True
    users.update_user(made.id, {"email": made.email, "name": "Renamed Person"}, actor=admin)
    assert assert_after_image_is_the_row("user", User).after["name"] == "Renamed Person"
    users.deactivate_user(made.id, admin, "left the company")
    assert assert_after_image_is_the_row("user", User).after["active"] is False


def test_service_account_and_org_unit(admin):
    create_service_account("Order system", ["trainer"], admin)
    assert assert_after_image_is_the_row("user", User).after["name"].endswith("(service account)")
    create_department({"name": "Quality Control", "site": "Basel"}, admin)
    assert_after_image_is_the_row("department", Department)


def test_enrolment_completion_and_certificate(app):
    learner = UserFactory()
    course = CourseFactory(validity_months=12)
    module = ModuleFactory(course=course, kind="text", required=True)
    enrollment, _ = enroll_user(learner.id, course.id, actor=learner)
    assert assert_after_image_is_the_row("enrollment", Enrollment).after["status"] == "assigned"
    record_progress(enrollment.id, module.id, status="completed", actor=learner)
    assert assert_after_image_is_the_row("enrollment", Enrollment).after["status"] == "completed"
    run_queued_jobs(app)
    db.session.expire_all()
    assert db.session.scalar(select(Certification.id)) is not None
    assert_after_image_is_the_row("certification", Certification)
    assert db.session.get(Course, course.id) is not None


def test_waiver_request_and_withdrawal(app):
    hr = UserFactory(roles=["hr"])
    role = JobRoleFactory()
    req = RequirementFactory(job_role=role)
    person = UserFactory(job_role_id=role.id)
    waiver = waivers.request_waiver(
        {
            "user_id": person.id,
            "requirement_id": req.id,
            "reason": "Qualified elsewhere",
            "starts_on": today().isoformat(),
            "ends_on": (today() + timedelta(days=90)).isoformat(),
        },
        hr,
    )
    assert assert_after_image_is_the_row("waiver", Waiver).after["status"] == "pending"
    waivers.withdraw_waiver(waiver.id, hr)
    assert assert_after_image_is_the_row("waiver", Waiver).after["status"] == "withdrawn"


def test_token_create_and_revoke(app):
    person = UserFactory()
    token, _ = create_api_token(person.id, "laptop", ["read"], actor=person, expires_days=30)
    scopes = {"scopes": lambda stored: sorted(stored.split())}
    assert assert_after_image_is_the_row("api_token", ApiToken, **scopes).after["expires_at"]
    revoke_api_token(token.id, actor=person)
    assert assert_after_image_is_the_row("api_token", ApiToken, **scopes).after["revoked_at"]
