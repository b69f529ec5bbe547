"""Nobody certifies themselves (issue 16): a manual certificate needs a reason, is never for its
issuer, and dated beyond CERTIFICATE_BACKDATE_DAYS waits for QA's e-signed approval (by neither
the issuer nor the recipient); the verify page, the detail page and the API say how each
certificate was issued."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import ESignature
from app.extensions import db
from app.learning.certificates import (
    decide_certificate,
    issue_certificate_for_enrollment,
    issue_certificate_manual,
    verify_certificate,
)
from app.learning.models import Certification
from app.people.sod import SelfApproval
from app.platform import clock
from app.platform.errors import Conflict, Forbidden, Invalid
from tests.conftest import csrf
from tests.helpers.api import ROLES, bearer, make_token
from tests.learning.certificates.conftest import audit_count, completed_enrollment, count
from tests.people.factories import UserFactory

ISSUERS = ("trainer", "hr", "admin")
LONG_AGO = "2001-01-15"


def _signatures() -> int:
    return db.session.scalar(select(func.count()).select_from(ESignature))


def _written() -> tuple[int, int, int]:
    return count(Certification), audit_count("certification"), _signatures()


def _backdated(learner, course, issuer, days=400, **kw):
    return issue_certificate_manual(
        learner.id,
        course.id,
        issuer,
        "Classroom course at the previous site",
        issued_at=clock.now() - timedelta(days=days),
        password="password",
        **kw,
    )


@pytest.fixture
def trainer(app):
    return UserFactory(roles=["trainer"], name="Tess Trainer")


@pytest.fixture
def qa(app):
    return UserFactory(roles=["qa"], name="Quinn Quality")


# --- the attack: issuing to oneself, back-dated to 2001 --------------------------------------


@pytest.mark.parametrize("role", ISSUERS)
def test_nobody_issues_a_certificate_to_themselves_through_the_api(client, course, role):
    me = UserFactory(roles=[role])
    body = {
        "user_id": me.id,
        "course_id": course.id,
        "reason": "trust me",
        "issued_at": LONG_AGO,
        "signature_password": "password",
    }
    before = _written()
    resp = client.post(
        "/api/training/certifications", json=body, headers=bearer(make_token(me, ("write",)))
    )
    assert resp.status_code == 403
    assert resp.mimetype == "application/problem+json"
    assert "nobody issues a certificate to themselves" in resp.get_json()["detail"]
    assert _written() == before


@pytest.mark.parametrize("role", ISSUERS)
def test_nobody_issues_a_certificate_to_themselves_on_the_page(client, auth, course, role):
    me = UserFactory(roles=[role])
    auth.login(me)
    before = _written()
    resp = client.post(
        "/certificates/issue",
        data={
            "person": me.email,
            "course_id": str(course.id),
            "reason": "trust me",
            "issued_on": LONG_AGO,
            "signature_password": "password",
            "csrf_token": csrf(client, "/certificates/issue"),
        },
    )
    assert resp.status_code == 403
    assert "nobody issues a certificate to themselves" in resp.get_data(as_text=True)
    assert _written() == before


def test_the_service_refuses_oneself_before_asking_the_password(app, course, trainer):
    with pytest.raises(SelfApproval):
        issue_certificate_manual(trainer.id, course.id, trainer, "why", password="wrong")
    assert _written() == (0, 0, 0)


def test_a_certificate_back_dated_to_2001_is_pending_and_not_valid_on_verify(
    client, learner, course, trainer
):
    token = make_token(trainer, ("write",))
    body = {
        "user_id": learner.id,
        "course_id": course.id,
        "reason": "Paper record from 2001",
        "issued_at": LONG_AGO,
        "signature_password": "password",
    }
    resp = client.post("/api/training/certifications", json=body, headers=bearer(token))
    assert resp.status_code == 201, resp.get_json()
    assert resp.json["status"] == "pending_approval"
    assert resp.json["issuance"]["approval"] == "pending"
    assert resp.json["pdf_url"] is None  # nothing printable until approved
    page = client.get(f"/verify/{resp.json['verification_code']}").get_data(as_text=True)
    assert "Valid certificate" not in page and "Not valid: awaiting approval" in page
    assert "Issued manually by Tess Trainer on 2001-01-15" in page
    assert "reason: Paper record from 2001" in page


def test_within_the_window_a_manual_certificate_is_valid_at_once(app, learner, course, trainer):
    cert = _backdated(learner, course, trainer, days=30)
    assert cert.approval_status is None and cert.file_id is not None
    assert verify_certificate(cert.verification_code).status == "active"
    older = _backdated(learner, course, trainer, days=31)
    assert older.approval_status == "pending" and older.file_id is None
    assert verify_certificate(older.verification_code).status == "pending_approval"


def test_the_window_comes_from_config(app, learner, course, trainer):
    app.config["CERTIFICATE_BACKDATE_DAYS"] = 0
    assert _backdated(learner, course, trainer, days=1).approval_status == "pending"
    app.config["CERTIFICATE_BACKDATE_DAYS"] = 5000
    assert _backdated(learner, course, trainer, days=4000).approval_status is None


# --- QA's decision ----------------------------------------------------------------------------


def test_another_qa_person_approves_with_a_signature_and_verify_says_so(
    client, learner, course, trainer, qa
):
    cert = _backdated(learner, course, trainer, days=100)
    approved = decide_certificate(cert.id, "approve", "", qa, "password")
    assert approved.approval_status == "approved" and approved.decided_by_id == qa.id
    assert approved.file_id is not None  # the PDF follows the approval
    sig = db.session.scalar(
        select(ESignature).where(ESignature.entity == "certification", ESignature.user_id == qa.id)
    )
    assert sig.meaning == "approved"
    facts = verify_certificate(cert.verification_code)
    assert facts.status == "active"
    signed = clock.today().isoformat()
    assert f"approved by Quinn Quality (e-signed {signed})" in facts.issuance.summary
    page = client.get(f"/verify/{cert.verification_code}").get_data(as_text=True)
    assert "Valid certificate" in page and "approved by Quinn Quality" in page


@pytest.mark.parametrize("who", ["issuer", "recipient"])
def test_neither_issuer_nor_recipient_approves_in_the_service(app, course, who):
    issuer = UserFactory(roles=["trainer", "qa"])
    recipient = UserFactory(roles=["qa"])
    cert = _backdated(recipient, course, issuer)
    actor = issuer if who == "issuer" else recipient
    before = _written()
    with pytest.raises(SelfApproval, match="another QA person must decide it"):
        decide_certificate(cert.id, "approve", "", actor, "password")
    assert _written() == before
    db.session.expire_all()
    assert db.session.get(Certification, cert.id).approval_status == "pending"


@pytest.mark.parametrize("who", ["issuer", "recipient"])
def test_neither_issuer_nor_recipient_approves_through_the_api(client, course, who):
    issuer = UserFactory(roles=["trainer", "qa"])
    recipient = UserFactory(roles=["qa"])
    cert = _backdated(recipient, course, issuer, days=100)
    actor = issuer if who == "issuer" else recipient
    before = _written()
    resp = client.post(
        f"/api/training/certifications/{cert.id}/approve",
        json={"signature_password": "password"},
        headers=bearer(make_token(actor, ("read", "write"))),
    )
    assert resp.status_code == 403 and resp.mimetype == "application/problem+json"
    assert "Segregation of duties" in resp.get_json()["detail"]
    assert _written() == before
    other = bearer(make_token(UserFactory(roles=["qa"]), ("read", "write")))
    resp = client.post(
        f"/api/training/certifications/{cert.id}/approve",
        json={"signature_password": "password"},
        headers=other,
    )
    assert resp.status_code == 200 and resp.json["status"] == "active"
    assert resp.json["issuance"]["decided_at"] is not None


@pytest.mark.parametrize("who", ["issuer", "recipient"])
def test_neither_issuer_nor_recipient_approves_on_the_page(client, auth, course, who):
    issuer = UserFactory(roles=["trainer", "qa"])
    recipient = UserFactory(roles=["qa"])
    cert = _backdated(recipient, course, issuer)
    auth.login(issuer if who == "issuer" else recipient)
    listing = client.get("/certificates/pending").get_data(as_text=True)
    assert cert.number in listing and "another QA person must decide it" in listing
    before = _written()
    resp = client.post(
        f"/certificates/{cert.id}/decide",
        data={
            "decision": "approve",
            "signature_password": "password",
            "csrf_token": csrf(client, "/certificates/pending"),
        },
    )
    assert resp.status_code == 403
    assert "Segregation of duties" in resp.get_data(as_text=True)
    assert _written() == before


def test_qa_approves_and_rejects_on_the_pending_page(client, auth, learner, course, trainer, qa):
    first = _backdated(learner, course, trainer)
    second = _backdated(learner, course, trainer)
    auth.login(qa)
    page = client.get("/certificates/pending").get_data(as_text=True)
    assert first.number in page and second.number in page
    assert "Classroom course at the previous site" in page
    token = csrf(client, "/certificates/pending")

    resp = client.post(
        f"/certificates/{first.id}/decide",
        data={"decision": "approve", "signature_password": "password", "csrf_token": token},
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/certificates/pending")

    no_note = client.post(
        f"/certificates/{second.id}/decide",
        data={"decision": "reject", "signature_password": "password", "csrf_token": token},
    )
    assert no_note.status_code == 422
    assert "Required when rejecting" in no_note.get_data(as_text=True)
    wrong = client.post(
        f"/certificates/{second.id}/decide",
        data={"decision": "reject", "note": "No evidence", "signature_password": "nope"},
    )
    assert wrong.status_code in (400, 422)  # no CSRF token, or the password
    bad_password = client.post(
        f"/certificates/{second.id}/decide",
        data={
            "decision": "reject",
            "note": "No evidence",
            "signature_password": "nope",
            "csrf_token": token,
        },
    )
    assert bad_password.status_code == 422
    db.session.expire_all()
    assert db.session.get(Certification, second.id).approval_status == "pending"

    resp = client.post(
        f"/certificates/{second.id}/decide",
        data={
            "decision": "reject",
            "note": "No evidence of the course",
            "signature_password": "password",
            "csrf_token": token,
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Certification, first.id).approval_status == "approved"
    rejected = db.session.get(Certification, second.id)
    assert rejected.approval_status == "rejected"
    assert rejected.decision_note == "No evidence of the course"
    verify = client.get(f"/verify/{rejected.verification_code}").get_data(as_text=True)
    assert "Not valid: this certificate was rejected" in verify
    pdf = client.get(f"/certificates/{rejected.id}/pdf")
    assert pdf.status_code == 404 and "not valid (rejected)" in pdf.get_data(as_text=True)
    assert "No certificate is waiting" in client.get("/certificates/pending").get_data(as_text=True)
    detail = client.get(f"/certificates/{first.id}").get_data(as_text=True)
    assert "approved by Quinn Quality" in detail and "Approved" in detail


def test_a_decision_needs_a_pending_certificate_and_qa(app, learner, course, trainer, qa):
    within = _backdated(learner, course, trainer, days=1)
    with pytest.raises(Conflict):
        decide_certificate(within.id, "approve", "", qa, "password")
    pending = _backdated(learner, course, trainer)
    with pytest.raises(Forbidden):
        decide_certificate(pending.id, "approve", "", UserFactory(roles=["admin"]), "password")
    with pytest.raises(Invalid) as exc:
        decide_certificate(pending.id, "reject", "  ", qa, "password")
    assert "note" in exc.value.errors
    decide_certificate(pending.id, "approve", "", qa, "password")
    with pytest.raises(Conflict):
        decide_certificate(pending.id, "reject", "late", qa, "password")


@pytest.mark.parametrize("role", ROLES)
def test_pending_page_and_api_role_matrix(client, auth, learner, course, trainer, role):
    cert = _backdated(learner, course, trainer)
    user = UserFactory(roles=[role])
    auth.login(user)
    assert client.get("/certificates/pending").status_code == (200 if role == "qa" else 403)
    token = bearer(make_token(user, ("write",)))
    resp = client.get("/api/training/certifications/pending", headers=token)
    assert resp.status_code == (200 if role == "qa" else 403)
    signed = {"signature_password": "password"}
    resp = client.post(
        f"/certificates/{cert.id}/decide",
        data={"decision": "approve", **signed, "csrf_token": csrf(client, "/home")},
    )
    assert resp.status_code == (302 if role == "qa" else 403)
    resp = client.post(
        f"/api/training/certifications/{cert.id}/reject",
        json={"note": "late", **signed},
        headers=token,
    )
    assert resp.status_code == (409 if role == "qa" else 403)  # QA approved it just above


def test_the_api_lists_pending_certificates(client, learner, course, trainer, qa):
    cert = _backdated(learner, course, trainer)
    _backdated(learner, course, trainer, days=2)  # within the window: not listed
    resp = client.get(
        "/api/training/certifications/pending", headers=bearer(make_token(qa, ("write",)))
    )
    assert resp.status_code == 200
    assert [c["id"] for c in resp.json["items"]] == [cert.id]
    assert resp.json["items"][0]["issuance"]["reason"] == "Classroom course at the previous site"


# --- how it was issued ------------------------------------------------------------------------


def test_issuance_of_a_completion_on_verify_detail_and_api(client, auth, learner, course):
    done = (clock.now() - timedelta(days=35)).replace(hour=10, minute=0, second=0, microsecond=0)
    cert = issue_certificate_for_enrollment(completed_enrollment(learner, course, done).id)
    expected = f"On completing Good Manufacturing Practice Basics on {done.date().isoformat()}."
    assert expected in client.get(f"/verify/{cert.verification_code}").get_data(as_text=True)
    token = bearer(make_token(UserFactory(roles=["hr"]), ("read",)))
    issuance = client.get(f"/api/training/certifications/{cert.id}", headers=token).json["issuance"]
    assert issuance["kind"] == "completion" and issuance["summary"] == expected
    auth.login(learner)
    assert expected in client.get(f"/certificates/{cert.id}").get_data(as_text=True)


def test_issuance_of_an_imported_record(app, learner, course):
    enrollment = completed_enrollment(learner, course)
    enrollment.source = "import"
    db.session.commit()
    cert = issue_certificate_for_enrollment(enrollment.id)
    facts = verify_certificate(cert.verification_code)
    assert facts.issuance.kind == "imported"
    assert facts.issuance.summary.startswith("Imported from a previous training record system")


def test_the_openapi_document_declares_the_signature_password(client):
    doc = client.get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert "signature_password" in schemas["CertificationInput"]["properties"]
    assert "signature_password" in schemas["CertificationInput"]["required"]
    assert "issuance" in schemas["Certification"]["properties"]
    assert "signature_password" in schemas["CertificationDecision"]["required"]
