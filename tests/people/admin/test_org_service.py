"""Departments, teams and job roles: validation, audit, delete only when unused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.people import org
from app.people.models import Department, JobRole, Team
from app.platform.audit import AuditLog
from app.platform.errors import Conflict, Invalid
from tests.people.factories import UserFactory


def test_create_update_delete_department_is_audited(admin, audit_count):
    department = org.create_department({"name": "Quality", "site": "Basel"}, actor=admin)
    org.update_department(department.id, {"name": "Quality Assurance", "site": "Basel"}, admin)
    org.delete_department(department.id, actor=admin)
    assert db.session.get(Department, department.id) is None
    rows = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "department").order_by(AuditLog.id)
    ).all()
    assert [r.action for r in rows] == ["create", "update", "delete"]
    assert rows[1].before["name"] == "Quality" and rows[1].after["name"] == "Quality Assurance"
    assert rows[2].before["name"] == "Quality Assurance"


def test_names_are_unique_case_insensitively(admin, org_units):
    with pytest.raises(Invalid) as exc:
        org.create_department({"name": "quality"}, actor=admin)
    assert "exists" in exc.value.errors["name"][0]
    with pytest.raises(Invalid):
        org.create_team({"name": "qc lab", "department_id": org_units["quality"].id}, admin)
    # The same team name in another department is fine.
    org.create_team({"name": "QC Lab", "department_id": org_units["ops"].id}, admin)


def test_job_role_risk_level_is_checked(admin):
    with pytest.raises(Invalid) as exc:
        org.create_job_role({"name": "Picker", "risk_level": "extreme"}, actor=admin)
    assert "One of" in exc.value.errors["risk_level"][0]
    assert db.session.scalar(select(JobRole).where(JobRole.name == "Picker")) is None


def test_team_needs_a_department(admin):
    with pytest.raises(Invalid) as exc:
        org.create_team({"name": "Floating"}, actor=admin)
    assert exc.value.errors["department_id"] == ["Pick a department."]


def test_delete_in_use_is_a_conflict_and_writes_nothing(admin, org_units, audit_count):
    UserFactory(
        department=org_units["quality"], team=org_units["qc_lab"], job_role=org_units["analyst"]
    )
    count = audit_count()
    with pytest.raises(Conflict, match="1 person"):
        org.delete_department(org_units["quality"].id, admin)
    with pytest.raises(Conflict, match="1 person"):
        org.delete_team(org_units["qc_lab"].id, admin)
    with pytest.raises(Conflict, match="1 person"):
        org.delete_job_role(org_units["analyst"].id, admin)
    # A department with only a team is still in use.
    with pytest.raises(Conflict, match="1 team"):
        org.delete_department(org_units["ops"].id, admin)
    assert audit_count() == count
    assert db.session.get(Team, org_units["qc_lab"].id) is not None


def test_team_with_members_cannot_move_department(admin, org_units):
    UserFactory(department=org_units["quality"], team=org_units["qc_lab"])
    with pytest.raises(Invalid) as exc:
        org.update_team(
            org_units["qc_lab"].id, {"name": "QC Lab", "department_id": org_units["ops"].id}
        )
    assert "move them" in exc.value.errors["department_id"][0]


def test_lists_carry_usage_counts(org_units):
    UserFactory(department=org_units["quality"], team=org_units["qc_lab"])
    rows = {r.item.name: r for r in org.list_departments()}
    assert (rows["Quality"].people, rows["Quality"].teams) == (1, 1)
    assert (rows["Operations"].people, rows["Operations"].teams) == (0, 1)
    teams = {r.item.name: r.people for r in org.list_teams()}
    assert teams == {"QC Lab": 1, "Picking": 0}
