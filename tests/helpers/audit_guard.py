"""Audit completeness, checked on every request and job the suite runs.

Each commit made while serving a request (page or API) or running a job that inserted, changed
or deleted a row of a training-record table must add, in the same transaction, an audit row for
that record's entity naming every changed field (in before/after). Test set-up (factories) runs
outside requests and is not checked. A new mutating route or service that forgets its audit row
fails whichever test exercises it; tests/audit/test_audit_completeness.py makes sure every
mutating route is exercised.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import g, has_app_context, has_request_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from app.classroom.models import (
    SessionInstructor,
    SessionRegistration,
    SessionSeries,
    TrainingSession,
)
from app.compliance.models import (
    CompetencyRequirement,
    CompetencySubstitute,
    Curriculum,
    CurriculumCourse,
    TrainingAssignment,
    Waiver,
)
from app.gxp.models import ControlledDocument, DocumentAudience, DocumentVersion, InspectionExport
from app.learning.models import (
    Certification,
    Course,
    Enrollment,
    Module,
    QuizAttemptGrant,
    Result,
)
from app.people.models import ApiToken, Department, JobRole, Team, User, UserRole
from app.platform.audit import AuditLog

# Model -> the audit entities that may describe its changes.
AUDITED: dict[type, set[str]] = {
    User: {"user"},
    UserRole: {"user_role", "user"},
    Department: {"department"},
    Team: {"team"},
    JobRole: {"job_role"},
    ApiToken: {"api_token"},
    Course: {"course"},
    Module: {"module", "course"},
    Enrollment: {"enrollment"},
    Result: {"result", "enrollment"},
    Certification: {"certification"},
    QuizAttemptGrant: {"quiz_attempt_grant"},
    CompetencyRequirement: {"requirement"},
    CompetencySubstitute: {"requirement"},
    Curriculum: {"program"},
    CurriculumCourse: {"program"},
    Waiver: {"waiver"},
    TrainingAssignment: {"assignment"},
    ControlledDocument: {"document"},
    DocumentAudience: {"document"},
    DocumentVersion: {"document_version", "document"},
    InspectionExport: {"inspection_export"},
    TrainingSession: {"training_session"},
    SessionRegistration: {"session_registration", "training_session"},
    SessionSeries: {"training_session"},
    SessionInstructor: {"training_session"},
}
# Columns that are bookkeeping, not record content: changing them alone needs no audit row.
IGNORED_COLUMNS = {"updated_at", "last_used_at", "file_id", "progress", "total"}
# (model, column) -> the audit key that records it in another shape.
ALIASES = {
    ("User", "password_hash"): "password changed",  # the hash itself is never audited
    ("User", "session_epoch"): "other sessions ended",  # a password change ends the others
    ("CurriculumCourse", "position"): "course_ids",  # the program audits its ordered course list
    ("Result", "submission_text"): "text_length",
}


@dataclass
class Violation:
    where: str
    model: str
    change: str
    fields: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        fields = f" fields {self.fields}" if self.fields else ""
        return f"{self.where}: {self.change} {self.model}{fields} without an audit row"


violations: list[Violation] = []


def _checked() -> str | None:
    if has_request_context():
        from flask import request

        return f"{request.method} {request.path}"
    if has_app_context() and g.get("cadre_job"):
        return f"job {g.cadre_job}"
    return None


def _changed_columns(obj) -> list[str]:
    state = inspect(obj)
    out = []
    for attr in state.mapper.column_attrs:
        if attr.key in IGNORED_COLUMNS:
            continue
        if state.attrs[attr.key].history.has_changes():
            out.append(attr.key)
    return out


def _after_flush(session: Session, _ctx) -> None:
    where = _checked()
    if where is None:
        return
    pending = session.info.setdefault("audit_guard", {"changes": [], "audits": []})
    for obj in session.new:
        if isinstance(obj, AuditLog):
            pending["audits"].append(obj)
        elif type(obj) in AUDITED:
            pending["changes"].append((where, obj, "insert", []))
    for obj in session.dirty:
        if type(obj) in AUDITED and session.is_modified(obj, include_collections=False):
            cols = _changed_columns(obj)
            if cols:
                pending["changes"].append((where, obj, "update", cols))
    for obj in session.deleted:
        if type(obj) in AUDITED:
            pending["changes"].append((where, obj, "delete", []))


def _audited_fields(audits: list[AuditLog], entities: set[str]) -> tuple[bool, set[str]]:
    found, names = False, set()
    for row in audits:
        if row.entity in entities:
            found = True
            for side in (row.before, row.after):
                if isinstance(side, dict):
                    names.update(side)
    return found, names


def _before_commit(session: Session) -> None:
    if _checked() is not None:
        session.flush()  # commit flushes next anyway; look at what it will write
    pending = session.info.pop("audit_guard", None)
    if not pending:
        return
    for where, obj, change, cols in pending["changes"]:
        entities = AUDITED[type(obj)]
        found, names = _audited_fields(pending["audits"], entities)
        if not found:
            violations.append(Violation(where, type(obj).__name__, change, cols))
        elif change == "update":
            model = type(obj).__name__
            missing = [c for c in cols if ALIASES.get((model, c), c) not in names]
            if missing:
                violations.append(Violation(where, type(obj).__name__, change, missing))


def _after_rollback(session: Session, _previous_transaction=None) -> None:
    session.info.pop("audit_guard", None)


def install() -> None:
    """Listen on every session; idempotent (conftest is imported under two names)."""
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)


# --- every state-changing route is exercised ------------------------------------------------

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Routes that change no training record (or only session state); each says why.
NO_RECORD_CHANGE = {
    "auth.login": "signs in: login attempts and sessions are security state, not records",
    "auth.logout": "ends a login session",
}
exercised: set[tuple[str, str]] = set()


def note_route() -> None:
    from flask import request

    if request.method in WRITE_METHODS and request.endpoint:
        exercised.add((request.endpoint, request.method))


def mutating_routes(app) -> list[tuple[str, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) & WRITE_METHODS):
            out.append((rule.endpoint, method, rule.rule))
    return sorted(out)


def unexercised_routes(app) -> list[tuple[str, str, str]]:
    return [
        (endpoint, method, rule)
        for endpoint, method, rule in mutating_routes(app)
        if (endpoint, method) not in exercised and endpoint not in NO_RECORD_CHANGE
    ]


def whole_suite(session) -> bool:
    """Only a run of the whole tests/ tree (as `make test` does) can judge coverage."""
    from pathlib import Path

    cfg = session.config
    if cfg.getoption("keyword", "") or cfg.getoption("markexpr", "") or session.testsfailed:
        return False
    if cfg.getoption("exitfirst", False) or cfg.getoption("lf", False):
        return False
    tests_dir = Path(__file__).resolve().parent
    args = [Path(a.split("::")[0]).resolve() for a in cfg.args] or [Path.cwd()]
    return all(a in (tests_dir, tests_dir.parent) for a in args)
