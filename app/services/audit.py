"""Write and read the audit trail; services call record_audit inside their own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditLog, User


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


def _actor(actor: User | None) -> User | None:
    if actor is not None:
        return actor
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
        actor_label=f"{who.name} <{who.email}>" if who else "system",
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
    return row


@dataclass
class AuditFilter:
    entity: str | None = None
    entity_id: str | None = None
    action: str | None = None
    actor: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def list_audit(flt: AuditFilter, page: int = 1, per_page: int = 50):
    """Return (rows, total) of audit entries, newest first, filtered."""
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
    total = db.session.scalar(select(func.count()).select_from(q.subquery()))
    rows = db.session.scalars(
        q.order_by(AuditLog.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return rows, total


def audit_entities() -> list[str]:
    return list(db.session.scalars(select(AuditLog.entity).distinct().order_by(AuditLog.entity)))
