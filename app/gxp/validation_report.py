"""Validation evidence (IQ/OQ) for the running release: version, commit, the requirement -> test
mapping of validation/controls.json, and the results of a test run of the release (pytest's JUnit
XML), uploaded by QA on the Validation page, or the server's own last results file.

Each control's verdict: `passed` when every test it names passed, `failed` when one failed or
errored, `not_run` when one is missing from the XML or was skipped (or the control has no tests
yet: `pending`). The report is stored as PDF + JSON, recorded as a ValidationReport and audited.

The JSON (format "cadre.validation-report", format_version 2; schema in
schemas/validation-report.schema.json) is:
    application {name, version, commit}, generated_at, generated_by {id, name, email} | null,
    test_run {source, found, timestamp, hostname, tests, passed, failed, errors, skipped,
              time_seconds, kind, sha256, build {version, commit} | null},
    outcome (passed / failed / incomplete / no_evidence),
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
import xml.etree.ElementTree as ET  # noqa: S405  (DTDs are refused before parsing, see parse_junit)
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from werkzeug.utils import secure_filename

from app.config import ROOT
from app.extensions import db
from app.gxp import employee_record_pdf as pdf
from app.gxp.models import ValidationReport
from app.people.models import User
from app.platform import clock
from app.platform.audit import record_audit
from app.platform.errors import Invalid, NotFound
from app.platform.files import CheckedUpload, StoredFile, download_url, save_checked_upload
from app.platform.pagination import Page, paginate
from app.platform.release import VERSION
from app.platform.timefmt import iso_utc

CONTROLS_PATH = ROOT / "validation" / "controls.json"
FORMAT = "cadre.validation-report"
FORMAT_VERSION = 2
VERDICTS = ("passed", "failed", "not_run")
# The report as a whole: never "passed" unless every control passed in a run that was read.
OUTCOMES = ("passed", "failed", "incomplete", "no_evidence")
RESULTS_LIMIT = 20 * 1024 * 1024
VERDICT_LABELS = {"passed": "passed", "failed": "failed", "not_run": "not run"}
OUTCOME_LABELS = {
    "passed": "Every requirement passed in this test run.",
    "failed": "Failed: at least one requirement failed in this test run.",
    "incomplete": "Incomplete: no requirement failed, but not every requirement was tested.",
    "no_evidence": "No validation evidence: no test results were read for this build.",
}


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
    kind: str = "file"  # uploaded / server / file / none
    sha256: str | None = None
    timestamp: str | None = None
    hostname: str | None = None
    time_seconds: float | None = None
    build: dict[str, str | None] | None = None
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


def parse_junit(data: bytes, source: str, kind: str) -> JUnitRun:
    """Read JUnit XML results (pytest's --junitxml). Raises Invalid (key "results") when the
    bytes are not JUnit XML. A DOCTYPE is refused outright, so no entity is ever expanded."""
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise Invalid("Not a JUnit results file.", {"results": ["This is not a JUnit XML file."]})
    try:
        root = ET.fromstring(data)  # noqa: S314  (no DTD, checked above)
    except ET.ParseError as exc:
        message = f"This is not a JUnit XML file ({exc})."
        raise Invalid("Not a JUnit results file.", {"results": [message]}) from exc
    if root.tag not in ("testsuites", "testsuite"):
        message = "This XML file is not JUnit results: it has no <testsuite> element."
        raise Invalid("Not a JUnit results file.", {"results": [message]})
    run = JUnitRun(source=source, found=True, kind=kind, sha256=hashlib.sha256(data).hexdigest())
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total_time = 0.0
    properties: dict[str, str] = {}
    for suite in suites:
        run.timestamp = run.timestamp or suite.get("timestamp")
        run.hostname = run.hostname or suite.get("hostname")
        total_time += float(suite.get("time") or 0)
        for prop in suite.iterfind("properties/property"):
            properties.setdefault(prop.get("name", ""), prop.get("value", ""))
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
    if properties.get("cadre_version") or properties.get("cadre_commit"):
        run.build = {
            "version": properties.get("cadre_version") or None,
            "commit": (properties.get("cadre_commit") or "")[:40] or None,
        }
    return run


def read_junit(path: Path, kind: str = "file") -> JUnitRun:
    """Read a JUnit XML file; a missing or unreadable one is a run that was not found."""
    try:
        return parse_junit(path.read_bytes(), _shown_path(path), kind)
    except (OSError, Invalid):
        return JUnitRun(source=_shown_path(path), found=False, kind=kind)


def server_results() -> JUnitRun | None:
    """The server's own last results file (VALIDATION_JUNIT_PATH), if there is a readable one."""
    run = read_junit(junit_path(), kind="server")
    return run if run.found else None


def check_results_upload(file_storage) -> tuple[CheckedUpload, JUnitRun]:
    """Read an uploaded JUnit XML results file. Raises Invalid (key "results")."""
    if file_storage is None or not getattr(file_storage, "filename", None):
        message = "Choose the test results file (JUnit XML) of this release's test run."
        raise Invalid(message, {"results": [message]})
    data = file_storage.stream.read(RESULTS_LIMIT + 1)
    if not data:
        raise Invalid("The file is empty.", {"results": ["The file is empty."]})
    if len(data) > RESULTS_LIMIT:
        message = "The file is larger than the 20 MB limit for test results."
        raise Invalid(message, {"results": [message]})
    name = (secure_filename(file_storage.filename) or "results.xml")[-200:]
    if not name.lower().endswith(".xml"):
        name += ".xml"
    run = parse_junit(data, name, "uploaded")
    return _upload(name, "application/xml", data), run


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


def outcome(summary: dict[str, Any], run: dict[str, Any]) -> str:
    """The report as a whole: passed only when every control passed in a run that was read."""
    if not run.get("found") or not run.get("tests"):
        return "no_evidence"
    if summary["failed"]:
        return "failed"
    if summary["not_run"] or not summary["passed"]:
        return "incomplete"
    return "passed"


def report_data(
    actor: User | None = None,
    junit: Path | None = None,
    controls_path: Path | None = None,
    now: datetime | None = None,
    run: JUnitRun | None = None,
) -> dict[str, Any]:
    """The report's JSON content (no database writes): from `run`, else the file `junit`, else
    the server's results file."""
    if run is None:
        run = read_junit(junit) if junit is not None else read_junit(junit_path(), "server")
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
    test_run = {
        "source": run.source,
        "found": run.found,
        "timestamp": run.timestamp,
        "hostname": run.hostname,
        **run.counts(),
        "time_seconds": run.time_seconds,
        "kind": run.kind if run.found else "none",
        "sha256": run.sha256,
        "build": run.build,
    }
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "application": {"name": "Cadre", "version": app_version(), "commit": current_commit()},
        "generated_at": iso_utc(now or clock.now()),
        "generated_by": (
            {"id": actor.id, "name": actor.name, "email": actor.email} if actor else None
        ),
        "test_run": test_run,
        "outcome": outcome(summary, test_run),
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
            ("Tested build", _build_text(run.get("build"))),
            (
                "Test run",
                f"{run['source']}: {run['tests']} tests, {run['passed']} passed, "
                f"{run['failed']} failed, {run['errors']} errors, {run['skipped']} skipped"
                + (f"; started {run['timestamp']}" if run["timestamp"] else "")
                if run["found"]
                else "none: no test results were provided, so no control counts as passed",
            ),
        ],
        [
            OUTCOME_LABELS[data["outcome"]],
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


def _build_text(build: dict[str, Any] | None) -> str:
    if not build:
        return "not recorded in the test results"
    return f"Cadre {build.get('version') or '?'} at commit {build.get('commit') or '?'}"


def _upload(name: str, content_type: str, data: bytes) -> CheckedUpload:
    return CheckedUpload(name, content_type, data, hashlib.sha256(data).hexdigest())


def create_validation_report(
    actor: User | None = None,
    junit: Path | None = None,
    controls_path: Path | None = None,
    results: tuple[CheckedUpload, JUnitRun] | None = None,
) -> ValidationReport:
    """Build the report from uploaded `results`, else the file `junit`, else the server's
    results file; store its PDF and JSON (and the uploaded results), record and audit it, in
    one transaction."""
    now = clock.now()
    run = None
    if results is not None:
        results_upload, run = results
        run.source = (
            f"{run.source} (uploaded, file #{save_checked_upload(results_upload, actor).id})"
        )
    data = report_data(actor, junit, controls_path, now, run)
    body = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    stem = f"validation-report-{data['application']['version']}-{now:%Y%m%d-%H%M%S}"
    pdf_file = save_checked_upload(
        _upload(f"{stem}.pdf", "application/pdf", render_report_pdf(data)), actor
    )
    json_file = save_checked_upload(_upload(f"{stem}.json", "application/json", body), actor)
    report = ValidationReport(
        version=data["application"]["version"],
        commit=data["application"]["commit"],
        summary={
            **data["summary"],
            "test_run": data["test_run"],
            "outcome": data["outcome"],
            "requirements": [
                {
                    "id": c["id"],
                    "requirement": c["requirement"],
                    "verdict": c["verdict"],
                    "tests": [{"id": t["id"], "outcome": t["outcome"]} for t in c["tests"]],
                }
                for c in data["controls"]
            ],
        },
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
            "outcome": data["outcome"],
            "results_sha256": data["test_run"]["sha256"],
            "pdf_sha256": pdf_file.checksum,
            "json_sha256": json_file.checksum,
        },
        actor=actor,
    )
    db.session.commit()
    return report


def record_validation_evidence(
    actor: User, results_file=None, use_server_results: bool = False
) -> ValidationReport:
    """Build the report from an uploaded JUnit XML results file, or, when asked, from the
    server's own last results file. Raises Invalid (key "results") when there are none."""
    if use_server_results and not results_file:
        if server_results() is None:
            message = "This server has no test results file; upload the results of the test run."
            raise Invalid(message, {"results": [message]})
        return create_validation_report(actor=actor)
    return create_validation_report(actor=actor, results=check_results_upload(results_file))


def report_outcome(report: ValidationReport) -> str:
    """A stored report's outcome (reports from before outcomes were kept are derived again)."""
    s = report.summary or {}
    return s.get("outcome") or outcome(s, s.get("test_run") or {})


@dataclass(frozen=True)
class BuildEvidence:
    version: str
    commit: str
    report: ValidationReport | None  # the newest report of this build that read test results
    outcome: str  # OUTCOMES
    server_results: JUnitRun | None
    recorded_by: str | None = None  # None: the CLI
    requirements: list[dict[str, Any]] = field(default_factory=list)  # failed, not run, passed


def build_evidence() -> BuildEvidence:
    """The running build and its newest validation evidence (reports without results skipped)."""
    version, commit = app_version(), current_commit()
    reports = db.session.scalars(
        select(ValidationReport)
        .where(ValidationReport.version == version, ValidationReport.commit == commit)
        .order_by(ValidationReport.id.desc())
        .limit(50)
    )
    latest = next((r for r in reports if report_outcome(r) != "no_evidence"), None)
    order = {"failed": 0, "not_run": 1, "passed": 2}
    requirements = (latest.summary.get("requirements") or []) if latest else []
    creator = (
        db.session.get(User, latest.created_by_id) if latest and latest.created_by_id else None
    )
    return BuildEvidence(
        version=version,
        commit=commit,
        report=latest,
        outcome=report_outcome(latest) if latest else "no_evidence",
        server_results=server_results(),
        recorded_by=creator.name if creator else None,
        requirements=sorted(requirements, key=lambda c: order.get(c["verdict"], 1)),
    )


@dataclass(frozen=True)
class ReportRow:
    report: ValidationReport
    created_by: str | None  # None: built by the CLI
    outcome: str


def list_reports(page: int = 1, per_page: int = 20) -> Page:
    """A page of validation reports, newest first, with who built each (two queries)."""
    found = paginate(select(ValidationReport).order_by(ValidationReport.id.desc()), page, per_page)
    creator_ids = {r.created_by_id for r in found.items if r.created_by_id}
    names = {}
    if creator_ids:
        rows = db.session.execute(select(User.id, User.name).where(User.id.in_(creator_ids)))
        names = dict(rows.tuples().all())
    found.items = [ReportRow(r, names.get(r.created_by_id), report_outcome(r)) for r in found.items]
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
