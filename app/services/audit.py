"""Write and read the audit trail; services call record_audit inside their own transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from flask import g, has_app_context, has_request_context, request
from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, User
from app.services.csv_export import to_csv
from app.services.pagination import Page, paginate, paginate_capped


def snapshot(obj, fields: list[str]) -> dict[str, Any]:
    """Return a JSON-safe dict of `fields` of `obj` for before/after columns."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif isinstance(value, set):
            value = sorted(value)
        out[name] = value
    return out


def json_cell(value: Any) -> str:
    """A JSON column (before, after) as a CSV cell: sorted-key JSON, empty for NULL."""
    return json.dumps(value, sort_keys=True) if value is not None else ""


def _actor(actor: User | None) -> User | None:
    if actor is not None:
        return actor
    if g.get("cadre_job"):
        return None  # background work acts as the system
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def record_audit(
    action: str,
    entity: str,
    entity_id,
    *,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
    actor: User | None = None,
) -> AuditLog:
    """Add an audit row to the current transaction (the caller commits)."""
    who = _actor(actor)
    row = AuditLog(
        actor_id=who.id if who else None,
        actor_label=f"{who.name} <{who.email}>" if who else _system_label(),
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
        reason=reason,
    )
    if has_request_context():
        row.request_id = g.get("request_id")
        row.ip = request.remote_addr
    db.session.add(row)
    g.cadre_audit_written = True  # sealed into the hash chain when the request or job ends
    return row


def _system_label() -> str:
    job = g.get("cadre_job") if has_app_context() else None
    return f"system ({job.rsplit('.', 1)[-1]})" if job else "system"


@dataclass
class AuditFilter:
    """What the audit page and its CSV export filter on."""

    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    actor: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def _filtered(flt: AuditFilter):
    q = select(AuditLog)
    if flt.entity:
        q = q.where(AuditLog.entity == flt.entity)
    if flt.entity_id:
        q = q.where(AuditLog.entity_id == flt.entity_id)
    if flt.action:
        q = q.where(AuditLog.action == flt.action)
    if flt.actor:
        q = q.where(AuditLog.actor_label.ilike(f"%{flt.actor}%"))
    if flt.date_from:
        q = q.where(AuditLog.at >= datetime.combine(flt.date_from, time.min))
    if flt.date_to:
        q = q.where(AuditLog.at <= datetime.combine(flt.date_to, time.max))
    return q.order_by(AuditLog.id.desc())


def list_audit(flt: AuditFilter, page: int = 1, per_page: int = 50) -> Page:
    """Return a page of audit entries, newest first, filtered."""
    return paginate(_filtered(flt), page, per_page)


EXPORT_LIMIT = 50_000


def export_audit_csv(flt: AuditFilter) -> str:
    """Return the filtered audit rows (newest first, capped) as spreadsheet-safe CSV."""
    header = [
        "id",
        "at_utc",
        "actor",
        "action",
        "entity",
        "entity_id",
        "before",
        "after",
        "reason",
        "request_id",
        "ip",
    ]
    rows = db.session.scalars(_filtered(flt).limit(EXPORT_LIMIT))
    return to_csv(
        header,
        (
            [
                r.id,
                r.at.isoformat(),
                r.actor_label,
                r.action,
                r.entity,
                r.entity_id,
                json_cell(r.before),
                json_cell(r.after),
                r.reason or "",
                r.request_id or "",
                r.ip or "",
            ]
            for r in rows
        ),
    )


def parse_audit_filter(args) -> AuditFilter:
    """Build a filter from request args; bad dates are ignored rather than failing."""

    def day(name):
        try:
            return date.fromisoformat(args.get(name, ""))
        except ValueError:
            return None

    return AuditFilter(
        entity=(args.get("entity") or "").strip() or None,
        entity_id=(args.get("entity_id") or "").strip() or None,
        action=(args.get("action") or "").strip() or None,
        actor=(args.get("actor") or "").strip()[:100] or None,
        date_from=day("date_from"),
        date_to=day("date_to"),
    )


@dataclass
class Change:
    field: str
    before: Any
    after: Any


@dataclass
class HistoryEntry:
    row: AuditLog
    changes: list[Change]


def _changes(before: dict | None, after: dict | None) -> list[Change]:
    """Field-level differences; a create shows every field, a delete every old value."""
    before, after = before or {}, after or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    names = sorted(set(before) | set(after))
    return [
        Change(n, before.get(n), after.get(n))
        for n in names
        if before.get(n) != after.get(n) or n not in before or n not in after
    ]


def _with_changes(result: Page) -> Page:
    result.items = [HistoryEntry(r, _changes(r.before, r.after)) for r in result.items]
    return result


# The audit page counts its entries up to here (or to the page shown): the trail grows without
# bound, and counting a million rows takes longer than reading the page.
AUDIT_COUNT_CAP = 10_000


def list_audit_entries(flt: AuditFilter, page: int = 1, per_page: int = 50) -> Page:
    """A page of the audit trail with each entry's field-level changes, for reading on a page."""
    return _with_changes(paginate_capped(_filtered(flt), page, per_page, AUDIT_COUNT_CAP))


def record_history(entity: str, entity_id: str, page: int = 1, per_page: int = 100) -> Page:
    """Every audit entry about one record, oldest first, with its field-level changes."""
    q = (
        select(AuditLog)
        .where(AuditLog.entity == entity, AuditLog.entity_id == str(entity_id))
        .order_by(AuditLog.id)
    )
    return _with_changes(paginate(q, page, per_page))


def audit_entities() -> list[str]:
    """The kinds of record the trail holds, in name order.

    One probe of the (entity, entity_id) index per kind (a loose index scan) instead of
    reading the whole trail for DISTINCT.
    """
    seen = select(func.min(AuditLog.entity).label("entity")).cte("seen", recursive=True)
    following = (
        select(func.min(AuditLog.entity)).where(AuditLog.entity > seen.c.entity).scalar_subquery()
    )
    seen = seen.union_all(select(following).where(seen.c.entity.is_not(None)))
    return list(
        db.session.scalars(
            select(seen.c.entity).where(seen.c.entity.is_not(None)).order_by(seen.c.entity)
        )
    )
