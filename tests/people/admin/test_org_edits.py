"""Editing departments and teams through their forms: saved and audited with before/after."""

from sqlalchemy import select

from app.extensions import db
from app.people.models import Department, Team
from app.platform.audit import AuditLog
from tests.conftest import csrf


def _audit(entity: str, entity_id: int) -> AuditLog:
    return db.session.scalar(
        select(AuditLog).where(
            AuditLog.entity == entity,
            AuditLog.entity_id == str(entity_id),
            AuditLog.action == "update",
        )
    )


def test_department_edit_is_saved_and_audited(client, auth, admin, org_units):
    dept = org_units["quality"]
    auth.login(admin)
    path = f"/admin/departments/{dept.id}/edit"
    resp = client.post(path, data={"csrf_token": csrf(client, path), "name": "QA", "site": "Zug"})
    assert resp.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Department, dept.id)
    assert (saved.name, saved.site) == ("QA", "Zug")
    row = _audit("department", dept.id)
    assert row.before["name"] == "Quality" and row.after["name"] == "QA"


def test_team_edit_moves_it_and_is_audited(client, auth, admin, org_units):
    team, ops = org_units["qc_lab"], org_units["ops"]
    auth.login(admin)
    path = f"/admin/teams/{team.id}/edit"
    data = {"csrf_token": csrf(client, path), "name": "QC Lab 2", "department_id": str(ops.id)}
    assert client.post(path, data=data).status_code == 302
    db.session.expire_all()
    moved = db.session.get(Team, team.id)
    assert (moved.name, moved.department_id) == ("QC Lab 2", ops.id)
    row = _audit("team", team.id)
    assert row.after["name"] == "QC Lab 2" and row.after["department_id"] == ops.id
