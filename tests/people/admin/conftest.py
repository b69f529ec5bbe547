"""Fixtures for the admin (people and organisation) tests."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.platform.audit import AuditLog
from tests.people.factories import DepartmentFactory, JobRoleFactory, TeamFactory, UserFactory


@pytest.fixture
def admin(app):
    return UserFactory(name="Ada Admin", email="admin@example.com", roles=["admin"])


@pytest.fixture
def hr(app):
    return UserFactory(name="Hal HR", email="hr@example.com", roles=["hr"])


@pytest.fixture
def org_units(app):
    """Two departments, a team in each, and two job roles."""
    quality = DepartmentFactory(name="Quality")
    ops = DepartmentFactory(name="Operations")
    return {
        "quality": quality,
        "ops": ops,
        "qc_lab": TeamFactory(name="QC Lab", department=quality),
        "picking": TeamFactory(name="Picking", department=ops),
        "analyst": JobRoleFactory(name="QC Analyst", risk_level="high"),
        "associate": JobRoleFactory(name="Fulfillment Associate", risk_level="medium"),
    }


@pytest.fixture
def audit_count(app):
    """Return a function counting audit rows (optionally of one entity)."""

    def count(entity: str | None = None) -> int:
        q = select(func.count()).select_from(AuditLog)
        if entity:
            q = q.where(AuditLog.entity == entity)
        return db.session.scalar(q)

    return count
