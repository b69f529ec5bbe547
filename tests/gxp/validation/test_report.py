"""The validation report: verdicts from a JUnit run, what is stored, the CLI and the QA page."""

from __future__ import annotations

import io
import json

import jsonschema
from pypdf import PdfReader
from sqlalchemy import func, select

from app.config import ROOT
from app.extensions import db
from app.gxp import validation_report as svc
from app.gxp.models import ValidationReport
from app.platform.files import StoredFile
from app.platform.storage import get_storage
from tests.conftest import Auth, csrf, fetch_download
from tests.gxp.validation.conftest import CONTROLS, JUNIT
from tests.helpers.records import audit_rows
from tests.people.factories import UserFactory

ROLES = ("admin", "hr", "qa", "trainer", "manager", "employee", "seller")
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _schema() -> dict:
    return json.loads((ROOT / "schemas" / "validation-report.schema.json").read_text())


def test_verdicts_follow_the_junit_results(app):
    data = svc.report_data(junit=JUNIT, controls_path=CONTROLS)

    jsonschema.Draft202012Validator(_schema()).validate(data)
    verdicts = {c["id"]: c["verdict"] for c in data["controls"]}
    assert verdicts == {
        "T-PASS": "passed",
        "T-FAIL": "failed",
        "T-ERROR": "failed",
        "T-MISSING": "not_run",
        "T-SKIPPED": "not_run",
        "T-ONE-CASE": "passed",
        "T-PENDING": "not_run",
    }
    controls = {c["id"]: c for c in data["controls"]}
    [ok, param] = controls["T-PASS"]["tests"]
    assert (param["outcome"], param["cases"], param["passed"]) == ("passed", 2, 2)
    broken = controls["T-FAIL"]["tests"][1]
    assert (broken["outcome"], broken["message"]) == ("failed", "assert 2 == 3")
    assert controls["T-MISSING"]["tests"][1]["outcome"] == "missing"
    skipped = controls["T-SKIPPED"]["tests"][0]
    assert (skipped["outcome"], skipped["message"]) == ("skipped", "needs PostgreSQL")
    assert controls["T-ONE-CASE"]["tests"][0]["cases"] == 1
    assert controls["T-PENDING"]["pending"] and controls["T-PENDING"]["tests"] == []

    assert data["summary"] == {"controls": 7, "passed": 2, "failed": 2, "not_run": 3, "pending": 1}
    run = data["test_run"]
    assert run["found"] and run["hostname"] == "ci-runner"
    assert (run["tests"], run["passed"], run["failed"], run["errors"], run["skipped"]) == (
        7,
        4,
        1,
        1,
        1,
    )
    assert data["application"] == {"name": "Cadre", "version": "0.5.0", "commit": COMMIT}


def test_without_a_test_run_nothing_counts_as_passed(app, tmp_path):
    data = svc.report_data(junit=tmp_path / "absent.xml", controls_path=CONTROLS)
    assert data["test_run"]["found"] is False and data["test_run"]["tests"] == 0
    assert {c["verdict"] for c in data["controls"]} == {"not_run"}


def test_commit_comes_from_the_environment_else_git_else_unknown(app, monkeypatch):
    assert svc.current_commit() == COMMIT
    monkeypatch.setitem(app.config, "CADRE_COMMIT", "")
    monkeypatch.setattr(svc.shutil, "which", lambda name: None)
    assert svc.current_commit() == "unknown"


def test_report_is_stored_recorded_and_audited(app, junit_results):
    qa = UserFactory(roles=["qa"], name="Quinn QA")
    report = svc.create_validation_report(actor=qa, controls_path=CONTROLS)

    assert (report.version, report.commit, report.created_by_id) == ("0.5.0", COMMIT, qa.id)
    assert report.summary["failed"] == 2 and report.summary["test_run"]["tests"] == 7
    pdf_file = db.session.get(StoredFile, report.pdf_file_id)
    json_file = db.session.get(StoredFile, report.json_file_id)
    data = json.loads(get_storage().get(json_file.key))
    jsonschema.Draft202012Validator(_schema()).validate(data)
    assert data["generated_by"]["name"] == "Quinn QA"
    assert {c["id"]: c["verdict"] for c in data["controls"]}["T-MISSING"] == "not_run"
    pages = PdfReader(io.BytesIO(get_storage().get(pdf_file.key))).pages
    text = "".join(page.extract_text() for page in pages)
    for expected in ("Validation evidence", "0.5.0", COMMIT, "T-FAIL", "not run", "test_broken"):
        assert expected in text, expected
    [row] = audit_rows("validation_report", report.id)
    assert row.actor_id == qa.id and row.after["json_sha256"] == json_file.checksum


def test_cli_command_builds_a_report(app, runner, junit_results, tmp_path):
    result = runner.invoke(args=["validation-report", "--output", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"Cadre 0.5.0 at commit {COMMIT}" in result.output
    assert "7 tests, 4 passed, 1 failed, 1 errors, 1 skipped" in result.output
    assert "Controls:" in result.output
    # The real mapping: none of its tests are in the hand-written run.
    report = db.session.scalars(select(ValidationReport)).one()
    assert report.summary["passed"] == 0 and report.summary["controls"] >= 30
    assert report.created_by_id is None
    written = sorted(p.suffix for p in tmp_path.iterdir())
    assert written == [".json", ".pdf"]


def test_page_role_matrix_build_and_files(app, junit_results):
    for role in ROLES:
        client = app.test_client()
        Auth(client).login(UserFactory(roles=[role]))
        assert client.get("/validation").status_code == (200 if role in ("admin", "qa") else 403)
        if role not in ("admin", "qa"):
            token = csrf(client, "/home")
            assert client.post("/validation", data={"csrf_token": token}).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(ValidationReport)) == 0

    client = app.test_client()
    Auth(client).login(UserFactory(roles=["qa"], name="Quinn QA"))
    resp = client.post(
        "/validation",
        data={"csrf_token": csrf(client, "/validation"), "use_server_results": "y"},
    )
    assert resp.status_code == 302
    report = db.session.scalars(select(ValidationReport)).one()
    body = client.get("/validation").get_data(as_text=True)
    assert f"Validation report #{report.id} recorded" in body
    assert f'id="validation-report-{report.id}"' in body and "Quinn QA" in body
    for kind, magic in (("pdf", b"%PDF"), ("json", b"{")):
        link = client.get(f"/validation/{report.id}/report.{kind}")
        assert link.status_code == 302
        assert fetch_download(client, link.headers["Location"]).startswith(magic)
    assert client.get(f"/validation/{report.id + 1}/report.pdf").status_code == 404
