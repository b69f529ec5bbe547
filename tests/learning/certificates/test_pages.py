"""CertificationBadge pages: my certificates, detail, PDF, public verify, issue and revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.learning.certificates import issue_certificate_for_enrollment
from app.learning.models import Certification
from app.platform import clock
from tests.conftest import csrf, fetch_download
from tests.helpers.api import ROLES
from tests.learning.certificates.conftest import audit_count, completed_enrollment, count
from tests.learning.factories import CourseFactory
from tests.people.factories import UserFactory


def _cert(owner, course=None, **kw):
    return issue_certificate_for_enrollment(completed_enrollment(owner, course, **kw).id)


# --- my certificates -----------------------------------------------------------------------


def test_my_certificates_lists_mine_with_status_and_pdf_link(client, auth, learner, course):
    recent = clock.now() - timedelta(days=10)
    mine = _cert(learner, course, completed_at=recent)
    soon = _cert(
        learner, CourseFactory(title="Forklift Safety", validity_months=1), completed_at=recent
    )
    theirs = _cert(UserFactory(), CourseFactory(title="Somebody Else's Course"))
    auth.login(learner)

    body = client.get("/certificates").get_data(as_text=True)

    assert "Good Manufacturing Practice Basics" in body and mine.number in body
    assert "Forklift Safety" in body and soon.number in body
    assert "badge-active" in body and "badge-expiring" in body
    assert f"/certificates/{mine.id}/pdf" in body
    assert "Somebody Else" not in body and theirs.number not in body


def test_my_certificates_empty_state(client, auth, learner):
    auth.login(learner)
    body = client.get("/certificates").get_data(as_text=True)
    assert "You have no certificates yet" in body


def test_expired_and_revoked_badges(client, auth, learner, course):
    _cert(learner, course)  # completed 2025-03-14, valid 12 months: expired now
    cert = _cert(learner, CourseFactory(validity_months=None))
    cert.revoked_at = clock.now()
    db.session.commit()
    auth.login(learner)
    body = client.get("/certificates").get_data(as_text=True)
    assert "badge-expired" in body and "badge-revoked" in body
    assert "Does not expire" in body


def test_certificates_page_needs_login(client):
    resp = client.get("/certificates")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# --- detail and PDF ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_detail_and_pdf_role_matrix(client, auth, course, role):
    owner = UserFactory(name="Grace Hopper")
    cert = _cert(owner, course)
    auth.login(UserFactory(roles=[role]))
    detail = client.get(f"/certificates/{cert.id}")
    pdf = client.get(f"/certificates/{cert.id}/pdf")
    if role in {"admin", "hr", "qa", "trainer"}:
        assert detail.status_code == 200 and "Grace Hopper" in detail.get_data(as_text=True)
        assert pdf.status_code == 302
    else:
        assert detail.status_code == 403 and pdf.status_code == 403


def test_owner_and_manager_see_detail_and_download_the_pdf(client, auth, course):
    boss = UserFactory(roles=["manager"])
    owner = UserFactory(manager_id=boss.id)
    cert = _cert(owner, course)
    for who in (owner, boss):
        auth.login(who)
        body = client.get(f"/certificates/{cert.id}").get_data(as_text=True)
        assert cert.number in body and f"/verify/{cert.verification_code}" in body
        resp = client.get(f"/certificates/{cert.id}/pdf")
        assert resp.status_code == 302
        assert fetch_download(client, resp.headers["Location"]).startswith(b"%PDF")
        auth.logout()


def test_pdf_is_404_until_rendered_and_unknown_certificate_is_404(client, auth, learner, course):
    cert = _cert(learner, course)
    cert.file_id = None
    db.session.commit()
    auth.login(learner)
    assert client.get(f"/certificates/{cert.id}/pdf").status_code == 404
    assert "being prepared" in client.get("/certificates").get_data(as_text=True)
    assert client.get("/certificates/424242").status_code == 404
    db.session.expire_all()
    assert db.session.get(Certification, cert.id).file_id is None  # GET never renders


# --- public verify ------------------------------------------------------------------------------


def test_verify_page_is_public_and_shows_only_the_facts(client, course):
    owner = UserFactory(name="Ada Lovelace", email="ada.private@example.com")
    cert = _cert(owner, course, score=73.5)
    other = _cert(owner, CourseFactory(title="Another Secret Course"))

    resp = client.get(f"/verify/{cert.verification_code}")

    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "Ada Lovelace" in body and "Good Manufacturing Practice Basics" in body
    assert cert.number in body and "2025-03-14" in body and "2026-03-14" in body
    assert "badge-expired" in body  # the certificate ran out in March 2026
    assert "ada.private@example.com" not in body and "73.5" not in body
    assert "Another Secret Course" not in body and other.number not in body
    assert resp.headers["X-Robots-Tag"] == "noindex"


def test_verify_page_says_valid_for_an_active_certificate(client, learner, course):
    cert = _cert(learner, course, completed_at=clock.now() - timedelta(days=1))
    body = client.get(f"/verify/{cert.verification_code.lower()}").get_data(as_text=True)
    assert "Valid certificate" in body and "badge-active" in body


def test_verify_unknown_code_is_a_404_page_saying_not_valid(client):
    resp = client.get("/verify/NOTAREALCODE")
    assert resp.status_code == 404
    assert "Not a valid certificate" in resp.get_data(as_text=True)


# --- issue by hand ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_issue_page_role_matrix(client, auth, role):
    auth.login(UserFactory(roles=[role]))
    resp = client.get("/certificates/issue")
    assert resp.status_code == (200 if role in {"admin", "hr", "trainer"} else 403)


@pytest.mark.parametrize("role", ROLES)
def test_manage_page_role_matrix(client, auth, learner, course, role):
    cert = _cert(learner, course)
    auth.login(UserFactory(roles=[role]))
    resp = client.get("/certificates/manage")
    if role in {"admin", "hr", "qa", "trainer"}:
        assert resp.status_code == 200 and cert.number in resp.get_data(as_text=True)
    else:
        assert resp.status_code == 403


def test_manage_page_search_and_htmx_fragment(client, auth, learner, course):
    cert = _cert(learner, course)
    other = _cert(UserFactory(name="Zed Other"), CourseFactory())
    auth.login(UserFactory(roles=["hr"]))
    resp = client.get("/certificates/manage?q=lovelace", headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert cert.number in body and other.number not in body
    assert "<html" not in body


def test_issue_by_hand_through_the_form(client, auth, learner, course):
    trainer = UserFactory(roles=["trainer"])
    auth.login(trainer)
    token = csrf(client, "/certificates/issue")
    resp = client.post(
        "/certificates/issue",
        data={
            "csrf_token": token,
            "person": "ADA@example.com",
            "course_id": course.id,
            "reason": "Classroom session on 3 May",
            "issued_on": "2025-05-03",
            "signature_password": "password",
        },
    )
    assert resp.status_code == 302
    cert = db.session.query(Certification).one()
    assert resp.headers["Location"].endswith(f"/certificates/{cert.id}")
    assert cert.user_id == learner.id and cert.issued_at.date().isoformat() == "2025-05-03"
    assert cert.reason == "Classroom session on 3 May"
    assert audit_count("certification", "create") == 1
    page = client.get(f"/certificates/{cert.id}").get_data(as_text=True)
    assert f"<strong>{trainer.name}</strong> · Issued" in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reason": ""}, "Give a reason"),
        ({"person": "nobody@example.com"}, "No active person has this email"),
        ({"expires_on": "2020-01-01"}, "The expiry must come after the issue date"),
        ({"signature_password": "wrong"}, "password is not correct"),
        ({"signature_password": ""}, "Enter your password to sign"),
    ],
)
def test_issue_form_errors_rerender_with_422_and_write_nothing(
    client, auth, learner, course, change, message
):
    auth.login(UserFactory(roles=["hr"]))
    data = {
        "csrf_token": csrf(client, "/certificates/issue"),
        "person": learner.email,
        "course_id": course.id,
        "reason": "why",
        "issued_on": "2025-05-03",
        "signature_password": "password",
        **change,
    }
    resp = client.post("/certificates/issue", data=data)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert count(Certification) == 0


# --- revoke ---------------------------------------------------------------------------------------


def test_revoke_through_the_detail_page(client, auth, learner, course):
    cert = _cert(learner, course)
    auth.login(UserFactory(roles=["qa"]))
    token = csrf(client, f"/certificates/{cert.id}")
    resp = client.post(f"/certificates/{cert.id}/revoke", data={"csrf_token": token, "reason": ""})
    assert resp.status_code == 422 and "Give a reason" in resp.get_data(as_text=True)
    resp = client.post(
        f"/certificates/{cert.id}/revoke", data={"csrf_token": token, "reason": "Fraud"}
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certification, cert.id).revoked_at is not None
    assert "This certificate was revoked" in client.get(
        f"/verify/{cert.verification_code}"
    ).get_data(as_text=True)


@pytest.mark.parametrize("role", ["trainer", "employee", "manager", "seller"])
def test_revoke_is_refused_to_other_roles(client, auth, learner, course, role):
    cert = _cert(learner, course)
    auth.login(UserFactory(roles=[role]))
    token = csrf(client, "/home")
    resp = client.post(f"/certificates/{cert.id}/revoke", data={"csrf_token": token, "reason": "x"})
    assert resp.status_code == 403
    db.session.expire_all()
    assert db.session.get(Certification, cert.id).revoked_at is None
