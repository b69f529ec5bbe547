"""The Validation page as QA uses it: plain words when there is no evidence, an uploaded JUnit
run turned into an outcome per requirement, and never a success look unless everything passed."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.gxp import validation_report as svc
from app.gxp.models import ValidationReport
from app.platform.files import StoredFile
from app.platform.storage import get_storage
from tests.conftest import Auth, csrf
from tests.gxp.validation.conftest import CONTROLS, JUNIT
from tests.helpers.records import audit_rows
from tests.people.factories import UserFactory

NO_EVIDENCE = "No validation evidence has been recorded for this build."
DEVELOPER_WORDS = ("make test", "pytest", "flask validation-report", "Run `")


@pytest.fixture
def qa_client(app, tmp_path):
    """A QA person's browser; the server has no results file of its own."""
    app.config["VALIDATION_JUNIT_PATH"] = str(tmp_path / "absent.xml")
    client = app.test_client()
    Auth(client).login(UserFactory(roles=["qa"], name="Quinn QA"))
    return client


def _upload(client, data: bytes, name: str = "results.xml"):
    return client.post(
        "/validation",
        data={"csrf_token": csrf(client, "/validation"), "results": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _reports() -> int:
    return db.session.scalar(select(func.count()).select_from(ValidationReport))


def _assert_customer_words(body: str) -> None:
    for words in DEVELOPER_WORDS:
        assert words not in body, words


def test_without_evidence_the_page_says_so_plainly(qa_client):
    body = qa_client.get("/validation").get_data(as_text=True)
    assert NO_EVIDENCE in body
    assert "alert-success" not in body and "Validated." not in body
    assert "use_server_results" not in body  # nothing on the server to offer
    _assert_customer_words(body)


def test_a_report_built_without_results_is_not_evidence(app, qa_client):
    svc.create_validation_report(actor=None)  # the CLI with no results file anywhere
    body = qa_client.get("/validation").get_data(as_text=True)
    assert NO_EVIDENCE in body and "no test results" in body


def test_uploaded_results_with_failures_read_as_failed(app, qa_client, monkeypatch):
    monkeypatch.setattr(svc, "CONTROLS_PATH", CONTROLS)
    resp = _upload(qa_client, JUNIT.read_bytes(), "release-0.5.0.xml")
    assert resp.status_code == 302
    page = qa_client.get("/validation").get_data(as_text=True)

    flash = re.search(
        r'<div class="alert alert-(\w+)" role="status">(Validation report[^<]+)', page
    )
    assert flash and flash.group(1) == "error"
    assert "2 of 7 requirements failed" in flash.group(2)
    assert NO_EVIDENCE not in page and "Failed." in page
    assert "2 of 7 requirements passed, 2 failed, 3 not run" in page
    # The outcome per requirement, failures first, with the tests behind each.
    rows = re.findall(r'<tr id="requirement-([\w-]+)">.*?badge-(\w+)', page, re.S)
    assert rows[:2] == [("T-FAIL", "failed"), ("T-ERROR", "failed")]
    assert dict(rows)["T-PASS"] == "passed" and dict(rows)["T-MISSING"] == "not_run"
    assert "tests/demo/test_b.py::TestThing::test_broken" in page
    assert "ci-runner" in page and "2026-01-15T10:00:00" in page  # what ran, where, when
    _assert_customer_words(page)

    report = db.session.scalars(select(ValidationReport)).one()
    assert report.summary["outcome"] == "failed"
    run = report.summary["test_run"]
    assert run["kind"] == "uploaded" and run["source"].startswith("release-0.5.0.xml")
    kept = db.session.scalar(select(StoredFile).where(StoredFile.checksum == run["sha256"]))
    assert get_storage().get(kept.key) == JUNIT.read_bytes()
    [row] = audit_rows("validation_report", report.id)
    assert row.after["outcome"] == "failed" and row.after["results_sha256"] == run["sha256"]


def test_a_run_that_proves_nothing_never_looks_like_success(app, qa_client):
    # The real mapping: none of its tests are in the hand-written run, so 0 passed.
    assert _upload(qa_client, JUNIT.read_bytes()).status_code == 302
    page = qa_client.get("/validation").get_data(as_text=True)
    assert "alert-success" not in page and "Validated." not in page
    assert "Incomplete." in page and "0 of " in page
    assert re.search(r'class="alert alert-warning" role="status">Validation report #\d+', page)


def test_every_requirement_passing_is_the_only_green(app, qa_client, monkeypatch, tmp_path):
    controls = tmp_path / "controls.json"
    controls.write_text(
        '{"controls": [{"id": "T-PASS", "requirement": "ok", "source": "fixture",'
        ' "tests": ["tests/demo/test_a.py::test_ok"]}]}'
    )
    monkeypatch.setattr(svc, "CONTROLS_PATH", controls)
    assert _upload(qa_client, JUNIT.read_bytes()).status_code == 302
    page = qa_client.get("/validation").get_data(as_text=True)
    assert "Validated." in page and "all 1 requirements passed" in page
    assert 'class="alert alert-success evidence-outcome"' in page


def test_the_tested_build_comes_from_the_results(app, qa_client):
    xml = JUNIT.read_bytes().replace(
        b'hostname="ci-runner">',
        b'hostname="ci-runner"><properties><property name="cadre_version" value="0.4.9" />'
        b'<property name="cadre_commit" value="feedfacefeedfacefeedfacefeedfacefeedface" />'
        b"</properties>",
    )
    assert _upload(qa_client, xml).status_code == 302
    report = db.session.scalars(select(ValidationReport)).one()
    assert report.summary["test_run"]["build"] == {
        "version": "0.4.9",
        "commit": "feedfacefeedfacefeedfacefeedfacefeedface",
    }
    page = qa_client.get("/validation").get_data(as_text=True)
    assert "Cadre 0.4.9 at commit" in page and "not this build" in page


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (None, None, "Choose the test results file (JUnit XML)"),
        (b"", "empty.xml", "The file is empty."),
        (b"%PDF-1.7 not xml", "results.pdf", "This is not a JUnit XML file"),
        (b"<html><body>hi</body></html>", "results.xml", "has no &lt;testsuite&gt; element"),
        (
            b'<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite>&a;</testsuite>',
            "bomb.xml",
            "This is not a JUnit XML file.",
        ),
    ],
)
def test_a_bad_upload_re_renders_the_form_with_the_error(app, qa_client, data, name, message):
    if data is None:
        resp = qa_client.post("/validation", data={"csrf_token": csrf(qa_client, "/validation")})
    else:
        resp = _upload(qa_client, data, name)
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert message in body and 'class="error" role="alert"' in body
    assert _reports() == 0


def test_the_server_results_are_offered_only_when_present(app, qa_client):
    assert "use_server_results" not in qa_client.get("/validation").get_data(as_text=True)
    resp = qa_client.post(
        "/validation",
        data={"csrf_token": csrf(qa_client, "/validation"), "use_server_results": "y"},
    )
    assert resp.status_code == 422 and "This server has no test results file" in resp.get_data(
        as_text=True
    )
    app.config["VALIDATION_JUNIT_PATH"] = str(JUNIT)
    body = qa_client.get("/validation").get_data(as_text=True)
    assert "use_server_results" in body and "2026-01-15T10:00:00" in body
