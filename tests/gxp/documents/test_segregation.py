"""Segregation of duties on document versions: who uploaded, reviewed and approved a version
must be different people as far as the document's type requires; refused in the service, on
the page and in the API (403, through the platform's one rule), configurable per type by QA."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import ESignature
from app.extensions import db
from app.gxp import segregation, versions
from app.gxp.models import DocumentVersion
from app.people.sod import SelfApproval
from app.platform import clock
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.gxp.documents.conftest import (
    PASSWORD,
    V1_TEXT,
    V2_TEXT,
    classify,
    effective,
    new_document,
    text_file,
    upload,
)
from tests.helpers.api import bearer, make_token
from tests.people.factories import UserFactory


def _upload_as(user, doc, label, content):
    return versions.add_version(doc.id, {"version": label}, text_file(content), user)


def _classify_as(user, version, change_class="significant"):
    data = {"change_class": change_class, "change_note": "New detergent."}
    return versions.classify_version(version.document_id, version.id, data, PASSWORD, user)


def _approve_as(user, version):
    data = {"effective_date": clock.today().isoformat()}
    return versions.make_effective(version.document_id, version.id, data, PASSWORD, user)


def _signatures() -> int:
    return db.session.scalar(select(func.count()).select_from(ESignature))


def _second_version(org):
    doc = new_document(org)
    effective(org, upload(org, doc, "1", V1_TEXT))
    return doc, upload(org, doc, "2", V2_TEXT)


def test_the_author_may_not_review_an_sop_version(org):
    _, v2 = _second_version(org)
    signed = _signatures()
    with pytest.raises(SelfApproval, match="You uploaded SOP-QA-001 version 2; another person"):
        _classify_as(org.author, v2)
    db.session.expire_all()
    assert db.session.get(DocumentVersion, v2.id).change_class is None
    assert _signatures() == signed  # refused before signing: nothing written


def test_the_author_may_not_approve_an_sop_version(org):
    doc = new_document(org)
    v1 = upload(org, doc, "1", V1_TEXT)
    with pytest.raises(SelfApproval, match="another person must approve it. SOP rule: Author, rev"):
        _approve_as(org.author, v1)
    db.session.expire_all()
    assert db.session.get(DocumentVersion, v1.id).status == "draft"


def test_the_reviewer_may_not_approve_an_sop_version(org):
    _, v2 = _second_version(org)
    classify(org, v2, "significant", note="New detergent.")
    with pytest.raises(SelfApproval, match="You reviewed SOP-QA-001 version 2"):
        _approve_as(org.reviewer, v2)
    db.session.expire_all()
    assert db.session.get(DocumentVersion, v2.id).status == "draft"


def test_three_different_people_take_an_sop_version_to_effective(org):
    _, v2 = _second_version(org)
    _classify_as(org.reviewer, v2)
    done = _approve_as(org.qa, v2)
    assert done.status == "effective"
    assert (done.created_by_id, done.classified_by_id, done.effective_by_id) == (
        org.author.id,
        org.reviewer.id,
        org.qa.id,
    )


def test_a_form_only_keeps_its_author_from_approving(org):
    """The default rule of a form: its author may review it, its reviewer may approve it."""
    doc = new_document(org, "FRM-001")
    doc.document_type = "form"
    db.session.commit()
    v1 = upload(org, doc, "1", V1_TEXT)
    with pytest.raises(SelfApproval, match="Form rule: The author may not approve."):
        _approve_as(org.author, v1)
    effective(org, v1)
    v2 = upload(org, doc, "2", V2_TEXT)
    _classify_as(org.author, v2)  # allowed for a form
    with pytest.raises(SelfApproval):
        _approve_as(org.author, v2)
    assert _approve_as(org.qa, v2).status == "effective"


def test_qa_sets_a_type_rule_and_it_is_applied_and_audited(org):
    _, v2 = _second_version(org)
    assert segregation.type_rule("sop").customised is False
    rule = segregation.set_type_rule("sop", ["author_approver"], org.qa)
    assert rule.separations == {"author_approver"} and rule.customised
    row = db.session.scalar(select(AuditLog).where(AuditLog.entity == "document_type_rule"))
    assert row.before["separate_reviewer_approver"] is True
    assert row.after == {
        "separate_author_reviewer": False,
        "separate_author_approver": True,
        "separate_reviewer_approver": False,
    }
    _classify_as(org.author, v2)  # now allowed
    with pytest.raises(SelfApproval, match="another person must approve"):
        _approve_as(org.author, v2)
    segregation.set_type_rule("sop", [], org.qa)
    assert _approve_as(org.author, v2).status == "effective"


def test_the_version_page_says_why_before_anyone_types_a_password(client, auth, org):
    doc, v2 = _second_version(org)
    url = f"/documents/{doc.id}/versions/{v2.id}"
    auth.login(org.author)
    page = client.get(url).get_data(as_text=True)
    assert "Segregation of duties." in page and "another person must review it" in page
    assert "Sign and classify" not in page
    assert "SOP: Author, reviewer and approver are three different people." in page
    # Posting anyway is refused by the service, shown as a flash, nothing changes.
    data = {"change_class": "significant", "signature_password": PASSWORD}
    resp = client.post(f"{url}/classify", data={**data, "csrf_token": csrf(client, url)})
    assert resp.status_code == 302
    after = client.get(url).get_data(as_text=True)
    assert "You uploaded SOP-QA-001 version 2; another person must review it." in after
    db.session.expire_all()
    assert db.session.get(DocumentVersion, v2.id).change_class is None

    auth.logout()
    auth.login(org.reviewer)
    page = client.get(url).get_data(as_text=True)
    assert "Sign and classify" in page and "Segregation of duties." not in page


def test_the_api_refuses_a_forbidden_step_with_403_problem_json(client, org):
    doc, v2 = _second_version(org)
    base = f"/api/v1/documents/{doc.id}/versions/{v2.id}"
    review = {"change_class": "significant", "signature_password": PASSWORD}
    author = bearer(make_token(org.author, ("read", "write")))
    resp = client.post(f"{base}/review", json=review, headers=author)
    assert resp.status_code == 403
    assert resp.mimetype == "application/problem+json"
    assert "another person must review it" in resp.get_json()["detail"]

    reviewer = bearer(make_token(org.reviewer, ("read", "write")))
    resp = client.post(f"{base}/review", json=review, headers=reviewer)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["change_class"] == "significant"

    approval = {"effective_date": clock.today().isoformat(), "signature_password": PASSWORD}
    resp = client.post(f"{base}/approve", json=approval, headers=reviewer)
    assert resp.status_code == 403
    assert "You reviewed SOP-QA-001 version 2" in resp.get_json()["detail"]
    resp = client.post(
        f"{base}/approve",
        json={**approval, "signature_password": "no"},
        headers=bearer(make_token(org.qa, ("read", "write"))),
    )
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    qa = bearer(make_token(org.qa, ("read", "write")))
    resp = client.post(f"{base}/approve", json=approval, headers=qa)
    assert resp.status_code == 200 and resp.get_json()["status"] == "effective"
    detail = client.get(f"/api/v1/documents/{doc.id}", headers=qa).get_json()
    assert detail["document_type"] == "sop"


def test_the_types_page_sets_a_rule(client, auth, org):
    auth.login(org.qa)
    page = client.get("/documents/types").get_data(as_text=True)
    assert "Work instruction" in page and "The author may not approve" in page
    token = csrf(client, "/documents/types")
    resp = client.post(
        "/documents/types/policy",
        data={"separations": ["author_approver", "reviewer_approver"], "csrf_token": token},
    )
    assert resp.status_code == 302
    page = client.get("/documents/types").get_data(as_text=True)
    assert "Policy: The author may not approve; The reviewer may not approve." in page
    assert segregation.type_rule("policy").separations == {"author_approver", "reviewer_approver"}
    auth.logout()
    auth.login(UserFactory(roles=["manager"]))
    assert client.get("/documents/types").status_code == 403
    assert client.post("/documents/types/policy", data={"csrf_token": token}).status_code in (
        400,
        403,
    )


def test_a_new_document_takes_its_type_from_the_form(client, auth, org):
    auth.login(org.qa)
    token = csrf(client, "/documents/new")
    resp = client.post(
        "/documents/new",
        data={
            "number": "WI-PACK-001",
            "title": "Packing",
            "document_type": "work_instruction",
            "training_due_days": "14",
            "job_role_ids": [str(org.role.id)],
            "owner_email": org.qa.email,
            "csrf_token": token,
        },
    )
    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Work instruction" in page
    bad = client.post(
        "/documents/new",
        data={"number": "X-1", "title": "X", "document_type": "poem", "csrf_token": token},
    )
    assert bad.status_code == 422 and "One of: sop, work_instruction" in bad.get_data(as_text=True)
