"""Manual issue, revocation, derived status, who may see a certificate, and the PDF itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.learning.certificate_pdf import render_certificate_pdf
from app.learning.certificates import (
    can_view_certificate,
    certificate_status,
    issue_certificate_for_enrollment,
    issue_certificate_manual,
    list_user_certificates,
    revoke_certificate,
    verification_url,
    verify_certificate,
)
from app.learning.models import Certification
from app.platform.audit import AuditLog
from app.platform.errors import Conflict, Forbidden, Invalid
from app.platform.storage import get_storage
from tests.learning.certificates.conftest import audit_count, completed_enrollment, count, pdf_text
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


# --- manual issue ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["trainer", "hr", "admin"])
def test_trainer_hr_admin_issue_by_hand_with_a_reason_that_is_audited(app, learner, course, role):
    actor = UserFactory(roles=[role])

    cert = issue_certificate_manual(
        learner.id, course.id, actor, "External GMP course, 2025", password="password"
    )

    assert cert.enrollment_id is None
    assert cert.number == f"CAD-M-{cert.id:07d}"
    assert cert.issued_by_id == actor.id and cert.reason == "External GMP course, 2025"
    assert cert.expires_at is not None  # the course is valid for 12 months
    assert get_storage().get(cert.file.key).startswith(b"%PDF")
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.entity == "certification", AuditLog.action == "create")
    )
    assert row.reason == "External GMP course, 2025" and row.actor_id == actor.id
    assert verify_certificate(cert.verification_code).name == "Ada Lovelace"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_manual_issue_without_reason_is_refused_and_writes_nothing(app, learner, course, reason):
    trainer = UserFactory(roles=["trainer"])
    with pytest.raises(Invalid) as exc:
        issue_certificate_manual(learner.id, course.id, trainer, reason)
    assert "reason" in exc.value.errors
    assert count(Certification) == 0 and audit_count("certification") == 0


def test_manual_issue_checks_person_course_and_dates(app, learner, course):
    trainer = UserFactory(roles=["trainer"])
    gone = UserFactory(active=False)
    with pytest.raises(Invalid) as exc:
        issue_certificate_manual(gone.id, 424242, trainer, "why")
    assert set(exc.value.errors) == {"user_id", "course_id"}
    with pytest.raises(Invalid) as exc:
        issue_certificate_manual(
            learner.id, course.id, trainer, "why", issued_at=NOW, expires_at=NOW
        )
    assert set(exc.value.errors) == {"expires_at"}


def test_manual_issue_uses_given_dates(app, learner, course):
    trainer = UserFactory(roles=["trainer"])
    cert = issue_certificate_manual(
        learner.id,
        course.id,
        trainer,
        "why",
        issued_at=NOW,
        expires_at=NOW + timedelta(days=90),
        password="password",
    )
    assert cert.issued_at == NOW and cert.expires_at == NOW + timedelta(days=90)


@pytest.mark.parametrize("role", ["employee", "manager", "qa", "seller"])
def test_other_roles_may_not_issue_by_hand(app, learner, course, role):
    with pytest.raises(Forbidden):
        issue_certificate_manual(learner.id, course.id, UserFactory(roles=[role]), "why")


# --- revoke ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "hr", "qa"])
def test_revoke_is_audited_and_shows_on_verify(app, learner, course, role):
    cert = issue_certificate_for_enrollment(completed_enrollment(learner, course).id)
    actor = UserFactory(roles=[role])

    revoke_certificate(cert.id, actor, "Issued in error")

    db.session.expire_all()
    cert = db.session.get(Certification, cert.id)
    assert cert.revoked_at is not None and certificate_status(cert) == "revoked"
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.entity == "certification", AuditLog.action == "update")
    )
    assert row.reason == "Issued in error" and row.after["revoked_at"]
    assert verify_certificate(cert.verification_code).status == "revoked"
    with pytest.raises(Conflict):
        revoke_certificate(cert.id, actor, "again")


def test_revoke_needs_a_reason_and_the_role(app, learner, course):
    cert = issue_certificate_for_enrollment(completed_enrollment(learner, course).id)
    with pytest.raises(Invalid):
        revoke_certificate(cert.id, UserFactory(roles=["hr"]), " ")
    for role in ("trainer", "employee", "manager"):
        with pytest.raises(Forbidden):
            revoke_certificate(cert.id, UserFactory(roles=[role]), "no")
    db.session.expire_all()
    assert db.session.get(Certification, cert.id).revoked_at is None


# --- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "revoked", "status"),
    [
        (None, False, "active"),
        (NOW + timedelta(days=400), False, "active"),
        (NOW + timedelta(days=31), False, "active"),
        (NOW + timedelta(days=30), False, "expiring"),
        (NOW + timedelta(hours=1), False, "expiring"),
        (NOW, False, "expired"),
        (NOW - timedelta(days=1), False, "expired"),
        (NOW + timedelta(days=400), True, "revoked"),
        (NOW - timedelta(days=1), True, "revoked"),
    ],
)
def test_status_is_derived_from_dates_and_revocation(expires, revoked, status):
    cert = Certification(expires_at=expires, revoked_at=NOW if revoked else None)
    assert certificate_status(cert, NOW) == status


# --- who may see it --------------------------------------------------------------------------


def test_owner_manager_and_record_roles_may_view_others_may_not(app, course):
    boss = UserFactory(roles=["manager"])
    owner = UserFactory(manager_id=boss.id)
    cert = issue_certificate_for_enrollment(completed_enrollment(owner, course).id)
    assert can_view_certificate(owner, cert)
    assert can_view_certificate(boss, cert)
    for role in ("hr", "qa", "admin", "trainer"):
        assert can_view_certificate(UserFactory(roles=[role]), cert)
    assert not can_view_certificate(UserFactory(roles=["employee"]), cert)
    assert not can_view_certificate(UserFactory(roles=["manager"]), cert)  # not their report
    assert not can_view_certificate(None, cert)


def test_list_user_certificates_is_mine_only_without_n_plus_one(app, learner, count_queries):
    for _ in range(4):
        issue_certificate_for_enrollment(completed_enrollment(learner, CourseFactory()).id)
    issue_certificate_for_enrollment(completed_enrollment(UserFactory(), CourseFactory()).id)
    learner_id = learner.id
    db.session.expire_all()
    with count_queries() as statements:
        certs = list_user_certificates(learner_id)
        titles = [c.course.title for c in certs]
    assert len(certs) == 4 and all(c.user_id == learner_id for c in certs) and len(titles) == 4
    assert len(statements) <= 2


def test_verify_unknown_code_is_none(app):
    assert verify_certificate("NOPE") is None
    assert verify_certificate("") is None
    assert verify_certificate("x" * 500) is None


# --- the PDF --------------------------------------------------------------------------------


def test_pdf_shows_name_course_dates_number_and_verify_link(app, learner, course, tmp_path):
    cert = issue_certificate_for_enrollment(completed_enrollment(learner, course).id)
    data = get_storage().get(cert.file.key)
    text = pdf_text(data, tmp_path)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    for expected in (
        "Certificate of Completion",
        "Ada Lovelace",
        "Good Manufacturing Practice Basics",
        "GMP-101",
        "Version 3",
        "14 March 2025",
        "14 March 2026",
        cert.number,
        f"/verify/{cert.verification_code}",
    ):
        assert expected in text, expected


def test_pdf_of_a_certificate_without_expiry_says_it_does_not_expire(app, learner, tmp_path):
    course = CourseFactory(validity_months=None)
    cert = issue_certificate_for_enrollment(completed_enrollment(learner, course).id)
    text = pdf_text(get_storage().get(cert.file.key), tmp_path)
    if text is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    assert "Does not expire" in text


def test_pdf_rendering_is_deterministic_and_uses_the_public_base_url(app, learner, course):
    app.config["PUBLIC_BASE_URL"] = "https://training.example.org/"
    cert = issue_certificate_for_enrollment(completed_enrollment(learner, course).id)
    url = verification_url(cert.verification_code)
    first = render_certificate_pdf(cert, url, compress=False)
    assert first == render_certificate_pdf(cert, url, compress=False)
    assert f"https://training.example.org/verify/{cert.verification_code}".encode() in first
