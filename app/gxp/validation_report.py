"""Validation evidence (IQ/OQ) for the running release: version, commit, the requirement -> test
mapping of validation/controls.json, and the results of the last test run (pytest's JUnit XML).

Each control's verdict: `passed` when every test it names passed, `failed` when one failed or
errored, `not_run` when one is missing from the XML or was skipped (or the control has no tests
yet: `pending`). The report is stored as PDF + JSON, recorded as a ValidationReport and audited.

The JSON (format "cadre.validation-report", format_version 1; schema in
schemas/validation-report.schema.json) is:
    application {name, version, commit}, generated_at, generated_by {id, name, email} | null,
    test_run {source, found, timestamp, hostname, tests, passed, failed, errors, skipped,
              time_seconds},
    summary {controls, passed, failed, not_run, pending},
    controls [{id, requirement, source, pending, note, verdict,
               tests [{id, outcome, cases, passed, failed, skipped, time_seconds, message}]}]
with verdict in passed / failed / not_run and a test outcome in passed / failed / skipped /
missing. Keys are only ever added, under a new format_version.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import xml.etree.ElementTree as ET  # noqa: S405  (our own test run's output, not untrusted input)
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select

from app.config import ROOT
from app.extensions import db
from app.gxp import employee_record_pdf as pdf
from app.gxp.models import ValidationReport
from app.people.models import User
from app.platform import clock
from app.platform.audit import record_audit
from app.platform.errors import NotFound
from app.platform.files import CheckedUpload, StoredFile, download_url, save_checked_upload
from app.platform.pagination import Page, paginate
from app.platform.release import VERSION
from app.platform.timefmt import iso_utc

CONTROLS_PATH = ROOT / "validation" / "controls.json"
FORMAT = "cadre.validation-report"
FORMAT_VERSION = 1
VERDICTS = ("passed", "failed", "not_run")
VERDICT_LABELS = {"passed": "passed", "failed": "failed", "not_run": "not run"}


# --- release facts -----------------------------------------------------------------------------


def app_version() -> str:
    return VERSION


def current_commit() -> str:
    """CADRE_COMMIT, else `git rev-parse HEAD` of the checkout, else "unknown"."""
    commit = current_app.config.get("CADRE_COMMIT", "")
    if commit:
        return commit[:40]
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        done = subprocess.run(  # noqa: S603  (a fixed binary and arguments)
            [git, "rev-parse", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    out = done.stdout.strip()
    return out[:40] if done.returncode == 0 and out else "unknown"


# --- the mapping -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Control:
    id: str
    requirement: str
    source: str
    tests: tuple[str, ...]
    pending: bool = False
    note: str | None = None


def load_controls(path: Path | None = None) -> list[Control]:
    """The requirement -> test mapping (validation/controls.json)."""
    data = json.loads((path or CONTROLS_PATH).read_text(encoding="utf-8"))
    return [
        Control(
            id=c["id"],
            requirement=c["requirement"],
            source=c.get("source", ""),
            tests=tuple(c.get("tests", [])),
            pending=bool(c.get("pending", False)),
            note=c.get("note"),
        )
        for c in data["controls"]
    ]


def split_node_id(node_id: str) -> tuple[str, str]:
    """`tests/a/test_b.py::Class::test_c[x]` -> (JUnit classname, name): ("tests.a.test_b.Class",
    "test_c[x]"), as pytest writes them when run from the repository root."""
    path, *parts = node_id.split("::")
    if not parts:
        raise ValueError(f"not a test node id: {node_id!r}")
    module = path.removesuffix(".py").replace("/", ".")
    return ".".join([module, *parts[:-1]]), parts[-1]


# --- the last test run -------------------------------------------------------------------------


@dataclass
class Case:
    outcome: str  # passed / failed / error / skipped
    time: float
    message: str | None


@dataclass
class JUnitRun:
    source: str
    found: bool
    timestamp: str | None = None
    hostname: str | None = None
    time_seconds: float | None = None
    cases: dict[tuple[str, str], list[Case]] = field(default_factory=lambda: defaultdict(list))

    def counts(self) -> dict[str, int]:
        out = {"tests": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0}
        for cases in self.cases.values():
            for case in cases:
                out["tests"] += 1
                key = {"error": "errors", "failed": "failed", "skipped": "skipped"}
                out[key.get(case.outcome, "passed")] += 1
        return out


def junit_path() -> Path:
    """Where `make test` writes pytest's JUnit XML (VALIDATION_JUNIT_PATH; relative to the repo)."""
    configured = Path(current_app.config["VALIDATION_JUNIT_PATH"])
    return configured if configured.is_absolute() else ROOT / configured


def _shown_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def read_junit(path: Path) -> JUnitRun:
    """Read pytest's JUnit XML; a missing or unreadable file is a run that was not found."""
    run = JUnitRun(source=_shown_path(path), found=False)
    try:
        root = ET.parse(path).getroot()  # noqa: S314  (written by our own pytest run)
    except (OSError, ET.ParseError):
        return run
    run.found = True
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total_time = 0.0
    for suite in suites:
        run.timestamp = run.timestamp or suite.get("timestamp")
        run.hostname = run.hostname or suite.get("hostname")
        total_time += float(suite.get("time") or 0)
        for tc in suite.iter("testcase"):
            outcome, message = "passed", None
            for tag in ("failure", "error", "skipped"):
                child = tc.find(tag)
                if child is not None:
                    outcome = {"failure": "failed"}.get(tag, tag)
                    message = (child.get("message") or "").strip()[:500] or None
                    break
            key = (tc.get("classname", ""), tc.get("name", ""))
            run.cases[key].append(Case(outcome, float(tc.get("time") or 0), message))
    run.time_seconds = round(total_time, 3)
    return run


def _cases_for(run: JUnitRun, node_id: str) -> list[Case]:
    """A node id names one test or, without [params], every parametrised case of it."""
    classname, name = split_node_id(node_id)
    exact = run.cases.get((classname, name))
    if exact or "[" in name:
        return list(exact or [])
    return [
        case
        for (cls, case_name), cases in run.cases.items()
        if cls == classname and case_name.startswith(name + "[")
        for case in cases
    ]


def named_test_result(run: JUnitRun, node_id: str) -> dict[str, Any]:
    """One named test's outcome: failed if any case failed or errored, skipped if none passed."""
    cases = _cases_for(run, node_id)
    passed = sum(1 for c in cases if c.outcome == "passed")
    failed = sum(1 for c in cases if c.outcome in ("failed", "error"))
    skipped = sum(1 for c in cases if c.outcome == "skipped")
    if not cases:
        outcome = "missing"
    elif failed:
        outcome = "failed"
    elif not passed:
        outcome = "skipped"
    else:
        outcome = "passed"
    message = next((c.message for c in cases if c.outcome in ("failed", "error")), None)
    if message is None and outcome == "skipped":
        message = next((c.message for c in cases if c.message), None)
    return {
        "id": node_id,
        "outcome": outcome,
        "cases": len(cases),
        "passed": passed,
        "failed": failed,
        "skipped": skipped,
        "time_seconds": round(sum(c.time for c in cases), 3),
        "message": message,
    }


def verdict(tests: list[dict[str, Any]]) -> str:
    """passed: every test passed; failed: one failed; not_run: one missing/skipped, or none."""
    outcomes = {t["outcome"] for t in tests}
    if "failed" in outcomes:
        return "failed"
    if not tests or outcomes & {"missing", "skipped"}:
        return "not_run"
    return "passed"


# --- the report ----------------------------------------------------------------------------------


def report_data(
    actor: User | None = None,
    junit: Path | None = None,
    controls_path: Path | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report's JSON content (no database writes)."""
    run = read_junit(junit or junit_path())
    controls = []
    for control in load_controls(controls_path):
        tests = [named_test_result(run, node_id) for node_id in control.tests]
        controls.append(
            {
                "id": control.id,
                "requirement": control.requirement,
                "source": control.source,
                "pending": control.pending,
                "note": control.note,
                "verdict": verdict(tests),
                "tests": tests,
            }
        )
    summary = {"controls": len(controls), **{v: 0 for v in VERDICTS}, "pending": 0}
    for c in controls:
        summary[c["verdict"]] += 1
        summary["pending"] += int(c["pending"])
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "application": {"name": "Cadre", "version": app_version(), "commit": current_commit()},
        "generated_at": iso_utc(now or clock.now()),
        "generated_by": (
            {"id": actor.id, "name": actor.name, "email": actor.email} if actor else None
        ),
        "test_run": {
            "source": run.source,
            "found": run.found,
            "timestamp": run.timestamp,
            "hostname": run.hostname,
            **run.counts(),
            "time_seconds": run.time_seconds,
        },
        "summary": summary,
        "controls": controls,
    }


def render_report_pdf(data: dict[str, Any]) -> bytes:
    """The report as a PDF in the training-record style: release facts, run, one row per control."""
    app_facts = data["application"]
    run = data["test_run"]
    by = data["generated_by"]
    s = data["summary"]
    story = pdf.report_head(
        [
            ("Application", f"Cadre {app_facts['version']}"),
            ("Commit", app_facts["commit"]),
            ("Generated at", data["generated_at"]),
            ("Generated by", f"{by['name']} <{by['email']}>" if by else "CLI"),
            (
                "Test run",
                f"{run['source']}: {run['tests']} tests, {run['passed']} passed, "
                f"{run['failed']} failed, {run['errors']} errors, {run['skipped']} skipped"
                + (f"; started {run['timestamp']}" if run["timestamp"] else "")
                if run["found"]
                else f"{run['source']}: not found (run `make test` first)",
            ),
        ],
        [
            f"{s['controls']} controls: {s['passed']} passed, {s['failed']} failed, "
            f"{s['not_run']} not run ({s['pending']} pending tests).",
            "A control passes when every test it names passed in the run; it fails when one "
            "failed; it is not run when a named test is missing from the run or was skipped.",
        ],
    )
    rows = []
    for c in data["controls"]:
        tests = "\n".join(f"{t['id']}: {t['outcome']}" for t in c["tests"])
        if c["pending"]:
            tests = "\n".join(x for x in (tests, f"pending: {c['note'] or ''}") if x)
        rows.append([c["id"], c["requirement"], c["source"], VERDICT_LABELS[c["verdict"]], tests])
    story += pdf.section(
        "Requirements and the tests that prove them",
        pdf.table(
            ["Control", "Requirement", "Source", "Verdict", "Tests (outcome)"],
            [1.1, 3.4, 1.6, 0.8, 4.6],
            rows,
        ),
    )

    def details(canvas, top: float) -> None:
        canvas.setFillColor(pdf.MUTED)
        canvas.setFont("Courier", 7.5)
        canvas.drawRightString(pdf.PAGE[0] - pdf.MARGIN, top, f"commit {app_facts['commit']}")

    title = f"Validation evidence - Cadre {app_facts['version']}"
    return pdf.render_pdf(
        story,
        heading=title,
        footer="Cadre validation evidence (IQ/OQ)",
        title=title,
        details=details,
    )


def _upload(name: str, content_type: str, data: bytes) -> CheckedUpload:
    return CheckedUpload(name, content_type, data, hashlib.sha256(data).hexdigest())


def create_validation_report(
    actor: User | None = None,
    junit: Path | None = None,
    controls_path: Path | None = None,
) -> ValidationReport:
    """Build the report, store its PDF and JSON, record and audit it (one transaction)."""
    now = clock.now()
    data = report_data(actor, junit, controls_path, now)
    body = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    stem = f"validation-report-{data['application']['version']}-{now:%Y%m%d-%H%M%S}"
    pdf_file = save_checked_upload(
        _upload(f"{stem}.pdf", "application/pdf", render_report_pdf(data)), actor
    )
    json_file = save_checked_upload(_upload(f"{stem}.json", "application/json", body), actor)
    report = ValidationReport(
        version=data["application"]["version"],
        commit=data["application"]["commit"],
        summary={**data["summary"], "test_run": data["test_run"]},
        pdf_file_id=pdf_file.id,
        json_file_id=json_file.id,
        created_by_id=actor.id if actor else None,
        created_at=now,
    )
    db.session.add(report)
    db.session.flush()
    record_audit(
        "create",
        "validation_report",
        report.id,
        after={
            "version": report.version,
            "commit": report.commit,
            "summary": data["summary"],
            "pdf_sha256": pdf_file.checksum,
            "json_sha256": json_file.checksum,
        },
        actor=actor,
    )
    db.session.commit()
    return report


@dataclass(frozen=True)
class ReportRow:
    report: ValidationReport
    created_by: str | None  # None: built by the CLI


def list_reports(page: int = 1, per_page: int = 20) -> Page:
    """A page of validation reports, newest first, with who built each (two queries)."""
    found = paginate(select(ValidationReport).order_by(ValidationReport.id.desc()), page, per_page)
    creator_ids = {r.created_by_id for r in found.items if r.created_by_id}
    names = {}
    if creator_ids:
        rows = db.session.execute(select(User.id, User.name).where(User.id.in_(creator_ids)))
        names = dict(rows.tuples().all())
    found.items = [ReportRow(r, names.get(r.created_by_id)) for r in found.items]
    return found


def report_file_url(report_id: int, kind: str) -> str:
    """A short-lived link to a report's PDF or JSON. Raises NotFound."""
    report = db.session.get(ValidationReport, report_id)
    file_id = None
    if report is not None:
        file_id = {"pdf": report.pdf_file_id, "json": report.json_file_id}.get(kind)
    stored = db.session.get(StoredFile, file_id) if file_id else None
    if stored is None:
        raise NotFound(f"Validation report {report_id} has no {kind} file.")
    return download_url(stored)
