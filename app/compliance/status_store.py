"""Stored compliance statuses: `status_query(as_of)` kept as rows in compliance_statuses.

Organisation-wide reads (summaries, totals, overdue and expiring lists) otherwise derive every
person's status again after each change to training records (~300 ms at 200,000 pairs). The
table is used only when it is known to be current: built for the day asked about, with every
committed audit row sealed. The audit sealer processes each committed row exactly once, under
its lock, and in the same transaction refreshes the people the row touches (`after_seal`); a
change to a requirement, program or course, an unknown kind of change, or a big batch marks the
table stale until it is rebuilt; with Redis, the first read of a new day queues the day's
rebuild. When it is not current, reads derive statuses live, so the
table can make them faster but never different. Seed commands write without audit rows: the
nightly rebuild (or `flask compliance-run`) covers them.

Which audited entities move which people (checked against every write to the status inputs):
an enrollment, assignment or waiver moves its person; a user or user_role row is the person;
requirement, program and course changes can move many people.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from flask import current_app
from sqlalchemy import delete, insert, select, union_all

from app.audit.chain import hold_seal_lock, sealed_batch
from app.compliance.models import (
    CompetencyRequirement,
    ComplianceStatus,
    ComplianceStatusState,
    TrainingAssignment,
    Waiver,
)
from app.compliance.statuses import Scope, scope_people, scope_units, status_query
from app.extensions import db
from app.learning.models import Enrollment
from app.platform import clock, events
from app.platform.audit import AuditLog
from app.platform.inputs import as_id
from app.platform.memo import READ_WORK_MEM
from app.platform.sql import pg_setting

S = ComplianceStatus
COLUMNS = [
    "user_id",
    "requirement_id",
    "status",
    "ok",
    "due_date",
    "completed_on",
    "valid_until",
    "waiver_id",
    "cycle",
    "grace_days",
    "window_days",
    "department_id",
    "job_role_id",
]
# Audited entities whose id leads to the one person a change can move.
PERSON_ENTITIES = {
    "enrollment": (Enrollment.id, Enrollment.user_id),
    "assignment": (TrainingAssignment.id, TrainingAssignment.user_id),
    "waiver": (Waiver.id, Waiver.user_id),
}
USER_ENTITIES = frozenset({"user", "user_role"})  # entity_id is the user's id
# Audited entities that change no input of status_query (progress and results complete
# enrollments through an "enrollment" row of their own; org units cannot be deleted with
# members). Anything not listed here or above marks the table stale: safe by default.
NO_EFFECT = frozenset(
    {
        "progress",
        "result",
        "session_registration",
        "training_session",
        "sop_enrollment",
        "document",
        "document_version",
        "document_version_review",
        "certification",
        "file",
        "module",
        "quiz_question",
        "department",
        "team",
        "job_role",
        "api_token",
        "inspection_export",
        "validation_report",
        "audit_chain",
    }
)
# More sealed rows than this (an engine run over an organisation, an import) rebuild instead.
MAX_ROWS = 5000


def enabled() -> bool:
    return bool(current_app.config.get("COMPLIANCE_STATUS_STORE", True))


# Unsealed audit rows up to this many are read around: the people they touch are derived live
# and everyone else is read from the table. More than that, and reads derive everyone live.
LIVE_ROWS = 200


def is_current(on) -> bool:
    """Tell whether the table holds exactly what status_query(on) would derive now."""
    return _pending_people(on) == set()


def _pending_people(on) -> set[int] | None:
    """The people whose rows in the table may be behind status_query(on): those touched by audit
    rows not sealed yet (the sealer refreshes them). None when the table cannot be used at all
    (not built for `on`, stale, or too many or unknown pending changes)."""
    if not enabled():
        return None
    as_of = db.session.scalar(
        select(ComplianceStatusState.as_of).where(ComplianceStatusState.id == 1)
    )
    if as_of is not None and as_of < on == clock.today():
        _roll_over(on)
    if as_of != on:
        return None
    pending = db.session.execute(
        select(AuditLog.entity, AuditLog.entity_id)
        .where(AuditLog.row_hash.is_(None))
        .limit(LIVE_ROWS + 1)
    ).all()
    if len(pending) > LIVE_ROWS:
        return None
    return _people([(row.entity, row.entity_id) for row in pending])


def _roll_over(on) -> None:
    """The first read of a new day asks once for the day's rebuild, so reads need not derive
    live until the nightly run. Only with Redis: inline, the rebuild would commit the reader's
    transaction in the middle of whatever it is doing."""
    from app.platform.jobs import get_redis, queue_name

    conn = get_redis()
    key = f"cadre:{queue_name('statuses-day')}:{on.isoformat()}"
    if conn is not None and conn.set(key, 1, nx=True, ex=2 * 86400):
        request_rebuild()


def status_source(on, scope: Scope = Scope()):
    """The rows of status_query(on, scope): read from the table when it is current."""
    stored = stored_statuses(on, scope)
    return status_query(on, scope) if stored is None else stored


def stored_statuses(on, scope: Scope = Scope()):
    """The rows of status_query(on, scope) from the table when it can serve them, else None.

    Right after a change, before the sealer has refreshed the table, the people the change
    touches are derived live and everyone else is read from the table: exact, and nearly as
    fast as the table alone.
    """
    pending = _pending_people(on)
    if pending is None:
        return None
    stmt = select(*(getattr(S, name) for name in COLUMNS)).where(
        *scope_people(S.user_id, scope), *scope_units(S.user_id, scope)
    )
    requirement_filters = scope.requirement_filters()
    if requirement_filters:
        stmt = stmt.where(
            S.requirement_id.in_(select(CompetencyRequirement.id).where(*requirement_filters))
        )
    if scope.user_ids is not None:
        pending &= set(scope.user_ids)
    if not pending:
        return stmt
    ids = sorted(pending)
    live = status_query(on, replace(scope, user_ids=ids)).subquery("live")
    return union_all(stmt.where(S.user_id.not_in(ids)), select(*(live.c[name] for name in COLUMNS)))


def rebuild(on=None) -> int:
    """Derive every status for `on` (default today) into the table; returns the row count.

    Holds the sealer's lock, so no per-person refresh interleaves with it.
    """
    on = on or clock.today()
    db.session.commit()
    hold_seal_lock(wait=True)
    db.session.execute(delete(S))
    with pg_setting("work_mem", READ_WORK_MEM):
        db.session.execute(insert(S).from_select(COLUMNS, status_query(on)))
    state = db.session.get(ComplianceStatusState, 1) or ComplianceStatusState(id=1)
    state.as_of, state.built_at = on, clock.now()
    db.session.add(state)
    rows = db.session.query(S).count()
    db.session.commit()
    return rows


@sealed_batch.connect
def refresh_after_seal(touched: list[tuple[str, str]]) -> None:
    """Inside the sealer's transaction (audit.sealed): refresh the people the sealed rows
    touch, or mark the table stale and ask for a rebuild once the seal commits."""
    if after_seal(touched):
        events.after_commit(request_rebuild)


def after_seal(sealed: Iterable[tuple[str, str]]) -> bool:
    """Refresh the people these just-sealed audit rows touch, inside the sealer's transaction.

    Returns True when the table was marked stale and wants a rebuild (after the commit).
    """
    sealed = list(sealed)
    if not sealed or not enabled():
        return False
    state = db.session.get(ComplianceStatusState, 1)
    on = clock.today()
    if state is None or state.as_of != on:
        return False  # not in use today: the next rebuild sees these changes anyway
    people = _people(sealed)
    if people is None:
        state.as_of = None  # readers derive live until the rebuild
        return True
    if people:
        ids = sorted(people)
        db.session.execute(delete(S).where(S.user_id.in_(ids)))
        with pg_setting("work_mem", READ_WORK_MEM):
            db.session.execute(
                insert(S).from_select(COLUMNS, status_query(on, Scope(user_ids=ids)))
            )
    return False


def _people(sealed: list[tuple[str, str]]) -> set[int] | None:
    """The people the rows can move, or None when only a rebuild is safe."""
    if len(sealed) > MAX_ROWS:
        return None
    people: set[int] = set()
    ids: dict[str, set[int]] = {}
    for entity, entity_id in sealed:
        if entity in NO_EFFECT:
            continue
        if entity not in USER_ENTITIES and entity not in PERSON_ENTITIES:
            return None
        number = as_id(str(entity_id))
        if number is None:
            return None
        if entity in USER_ENTITIES:
            people.add(number)
        else:
            ids.setdefault(entity, set()).add(number)
    for entity, found in ids.items():
        id_col, user_col = PERSON_ENTITIES[entity]
        people.update(db.session.scalars(select(user_col).where(id_col.in_(sorted(found)))))
    return people


def request_rebuild() -> None:
    """Rebuild after the current transaction (a job with Redis, inline without it)."""
    from app.platform.jobs import enqueue

    enqueue("compliance.rebuild_statuses", queue="compliance")
