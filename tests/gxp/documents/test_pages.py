"""Documents pages and API: create, upload, diff, signed QA forms, role matrix, query counts."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.extensions import db
from app.gxp import documents as svc
from app.gxp.models import ControlledDocument, DocumentVersion
from app.platform import clock
from tests.conftest import csrf
from tests.gxp.documents.conftest import PASSWORD, V1_TEXT, V2_TEXT, effective, new_document, upload
from tests.helpers.api import ROLES
from tests.helpers.jobs import run_queued_jobs
from tests.people.factories import UserFactory

VIEWERS = {"admin", "hr", "qa", "trainer", "manager"}
MANAGERS = {"admin", "qa"}


def test_create_upload_and_diff_on_the_pages(client, auth, org):
    auth.login(org.author)
    token = csrf(client, "/documents/new")
    bad = client.post("/documents/new", data={"number": "x y", "csrf_token": token})
    assert bad.status_code == 422
    assert "Pick at least one affected job role" in bad.get_data(as_text=True)
    resp = client.post(
        "/documents/new",
        data={
            "number": "sop-qa-007",
            "title": "Line clearance",
            "training_due_days": "14",
            "job_role_ids": [str(org.role.id)],
            "owner_email": org.qa.email,
            "csrf_token": token,
        },
    )
    assert resp.status_code == 302
    doc = db.session.scalar(select(ControlledDocument))
    assert doc.number == "SOP-QA-007" and doc.course.modules[0].kind == "sop"
    edit = {
        "title": "Line clearance and cleaning",
        "training_due_days": "10",
        "job_role_ids": [str(org.role.id)],
        "owner_email": org.qa.email,
        "csrf_token": token,
    }
    assert client.post(f"/documents/{doc.id}/edit", data=edit).status_code == 302
    db.session.expire_all()
    assert doc.course.title == "SOP-QA-007 Line clearance and cleaning"

    form = client.get(f"/documents/{doc.id}/versions/new").get_data(as_text=True)
    assert 'value="1"' in form  # the suggested first label
    wrong = client.post(
        f"/documents/{doc.id}/versions/new",
        data={"version": "1", "file": (io.BytesIO(b"MZ..."), "sop.exe"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422 and "must be one of: .pdf, .txt, .md" in wrong.get_data(
        as_text=True
    )
    for label, content in (("1", V1_TEXT), ("2", V2_TEXT)):
        ok = client.post(
            f"/documents/{doc.id}/versions/new",
            data={
                "version": label,
                "file": (io.BytesIO(content.encode()), "sop.md"),
                "csrf_token": token,
            },
            content_type="multipart/form-data",
        )
        assert ok.status_code == 302, ok.get_data(as_text=True)[:300]
        if label == "1":
            v1 = db.session.scalar(select(DocumentVersion))
            first = client.get(ok.headers["Location"]).get_data(as_text=True)
            assert "This is the first version" in first
            effective(org, v1)
    v2 = db.session.scalar(select(DocumentVersion).where(DocumentVersion.version == "2"))
    page = client.get(f"/documents/{doc.id}/versions/{v2.id}").get_data(as_text=True)
    assert 'class="diff-removed"' in page and 'class="diff-added"' in page
    assert "Use detergent A." in page
    assert "detergent B &lt;script&gt;x&lt;/script&gt;." in page and "<script>x" not in page
    assert "Classify the change" in page and "Make effective" in page
    assert v2.checksum in page


def test_qa_classifies_and_approves_with_e_signatures_on_the_page(app, client, auth, org):
    doc = new_document(org)
    effective(org, upload(org, doc, "1", V1_TEXT))
    v2 = upload(org, doc, "2", V2_TEXT)
    auth.login(org.reviewer)
    url = f"/documents/{doc.id}/versions/{v2.id}"
    token = csrf(client, url)
    bad = client.post(
        f"{url}/classify",
        data={"change_class": "significant", "signature_password": "nope", "csrf_token": token},
    )
    assert bad.status_code == 422 and "The password is not correct" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(DocumentVersion, v2.id).change_class is None

    signed = {"signature_password": PASSWORD, "csrf_token": token}
    data = {"change_class": "significant", "change_note": "Detergent B.", **signed}
    assert client.post(f"{url}/classify", data=data).status_code == 302
    auth.logout()
    auth.login(org.qa)  # the reviewer may not approve what they reviewed (an SOP)
    token = csrf(client, url)
    signed = {"signature_password": PASSWORD, "csrf_token": token}
    today = clock.today().isoformat()
    resp = client.post(f"{url}/effective", data={"effective_date": today, **signed})
    assert resp.status_code == 302
    run_queued_jobs(app)
    page = client.get(url).get_data(as_text=True)
    assert "Reviewed" in page and "Approved" in page and "signature invalid" not in page
    listing = client.get("/documents").get_data(as_text=True)
    assert "0 of 3" in listing


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, auth, org, role):
    doc = new_document(org)
    v1 = upload(org, doc, "1", V1_TEXT)
    auth.login(UserFactory(roles=[role]))
    pages = {
        "/documents": VIEWERS,
        f"/documents/{doc.id}": VIEWERS,
        f"/documents/{doc.id}/versions/{v1.id}": VIEWERS,
        "/documents/new": MANAGERS,
        f"/documents/{doc.id}/edit": MANAGERS,
        f"/documents/{doc.id}/versions/new": MANAGERS,
    }
    for url, allowed in pages.items():
        assert client.get(url).status_code == (200 if role in allowed else 403), url
    token = csrf(client, "/home")
    resp = client.post(
        f"/documents/{doc.id}/versions/{v1.id}/effective",
        data={"effective_date": "2000-01-01", "csrf_token": token},
    )
    assert resp.status_code == (422 if role == "qa" else 403)  # only QA approves
    nav = client.get("/home").get_data(as_text=True)
    assert ('href="/documents"' in nav) == (role in VIEWERS)


def test_list_query_count_does_not_grow_with_rows(client, auth, org, count_queries):
    auth.login(org.qa)

    def queries():
        with count_queries() as statements:
            assert client.get("/documents").status_code == 200
        return len(statements)

    effective(org, upload(org, new_document(org, "SOP-1"), "1", V1_TEXT))
    few = queries()
    for n in range(2, 7):
        doc = new_document(org, f"SOP-{n}")
        effective(org, upload(org, doc, "1", f"{V1_TEXT}{n}"))
        upload(org, doc, "2", V2_TEXT)
    assert queries() == few
    assert client.get("/documents?q=sop-6").get_data(as_text=True).count('<tr id="document-') == 1


def test_api_list_detail_and_problem_for_unknown(client, auth, org):
    doc = new_document(org)
    effective(org, upload(org, doc, "1", V1_TEXT))
    auth.login(org.qa)
    listing = client.get("/api/v1/documents?per_page=5")
    assert listing.status_code == 200 and 'rel="first"' in listing.headers["Link"]
    [item] = listing.get_json()["items"]
    assert (item["number"], item["current_version"]["version"]) == ("SOP-QA-001", "1")
    assert (item["trained_on_current"], item["affected"]) == (0, 3)
    assert [r["name"] for r in item["job_roles"]] == ["Operator"]
    detail = client.get(f"/api/v1/documents/{doc.id}").get_json()
    assert [v["status"] for v in detail["versions"]] == ["effective"]
    assert detail["versions"][0]["checksum"] == svc.document_versions(doc.id)[0].checksum
    missing = client.get("/api/v1/documents/999")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    auth.logout()
    auth.login(UserFactory(roles=["employee"]))
    assert client.get("/api/v1/documents").status_code == 403
