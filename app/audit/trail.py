"""Read the audit trail: the audit page, its CSV export and each record's history (rows are
written by app.platform.audit)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import func, select

from app.audit.labels import Summary, entity_label, summarise
from app.extensions import db
from app.platform.audit import AuditLog, person_made
from app.platform.csv_export import to_csv
from app.platform.pagination import Page, paginate, paginate_capped


def json_cell(value: Any) -> str:
    """A JSON column (before, after) as a CSV cell: sorted-key JSON, empty for NULL."""
    return json.dumps(value, sort_keys=True) if value is not None else ""


@dataclass
class AuditFilter:
    """What the audit page and its CSV export filter on."""

    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    actor: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    # Leave out what the system, a job or a set-based bulk run wrote (AuditLog.system_generated).
    hide_system: bool = False


def _filtered(flt: AuditFilter):
    q = select(AuditLog)
    if flt.hide_system:
        q = q.where(person_made())
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
        "system_generated",
        "summary",
        "means",
        "on_behalf_of",
    ]
    rows = db.session.scalars(_filtered(flt).limit(EXPORT_LIMIT))
    return to_csv(header, _export_lines(rows))


EXPORT_CHUNK = 500  # ids per IN list stay under every database's parameter limit


def _export_lines(rows):
    """Raw columns as stored (UTC times), then the readable summary, named a chunk at a time."""
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == EXPORT_CHUNK:
            yield from _export_chunk(chunk)
            chunk = []
    yield from _export_chunk(chunk)


def _export_chunk(rows):
    for r, summary in zip(rows, summarise(rows), strict=True):
        yield [
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
            "yes" if r.system_generated else "no",
            summary.text(),
            summary.means,
            f"{summary.on_behalf_of} (user #{r.on_behalf_of_id})" if r.on_behalf_of_id else "",
        ]


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
        hide_system=args.get("hide_system") in ("1", "on", "true", "yes"),
    )


@dataclass
class HistoryEntry:
    """An audit row with how it reads: the record named, its fields labelled and named."""

    row: AuditLog
    summary: Summary

    @property
    def changes(self):
        return self.summary.changes


def _with_changes(result: Page) -> Page:
    result.items = [
        HistoryEntry(r, s) for r, s in zip(result.items, summarise(result.items), strict=True)
    ]
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


def entity_choices() -> list[tuple[str, str]]:
    """(entity, how the filter menu names it) for every kind of record in the trail."""
    out = []
    for entity in audit_entities():
        label = entity_label(entity)
        same = label.lower().replace(" ", "_") == entity
        out.append((entity, label if same else f"{label} ({entity.replace('_', ' ')})"))
    return sorted(out, key=lambda pair: pair[1].lower())
