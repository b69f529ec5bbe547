"""Factories and helpers shared by the requirement, program and waiver tests."""

from __future__ import annotations

from datetime import date, timedelta

import factory
from sqlalchemy import func, select

from app.compliance.models import Waiver
from app.extensions import db
from app.platform import clock
from app.platform.audit import AuditLog
from tests.factories import Base, RequirementFactory, UserFactory


class WaiverFactory(Base):
    class Meta:
        model = Waiver

    user = factory.SubFactory(UserFactory)
    requirement = factory.SubFactory(RequirementFactory)
    reason = "Holds an equivalent external qualification."
    status = "pending"
    starts_on = factory.LazyFunction(lambda: clock.today())
    ends_on = factory.LazyFunction(lambda: clock.today() + timedelta(days=180))


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
