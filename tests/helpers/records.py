"""Reading back what a test wrote: audit rows, row counts, today."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.platform import clock
from app.platform.audit import AuditLog


def audit_rows(entity: str, entity_id=None, action: str | None = None) -> list[AuditLog]:
    q = select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id)
    if entity_id is not None:
        q = q.where(AuditLog.entity_id == str(entity_id))
    if action:
        q = q.where(AuditLog.action == action)
    return list(db.session.scalars(q))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def today() -> date:
    return clock.today()
