"""Organisation: departments, teams and job roles, with usage counts and safe deletes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from app.extensions import db
from app.people.models import RISK_LEVELS, Department, JobRole, Team, User
from app.platform.audit import read_back, record_audit, snapshot
from app.platform.errors import Conflict, Invalid, NotFound
from app.platform.inputs import as_id

DEPARTMENT_FIELDS = ["name", "site"]
TEAM_FIELDS = ["name", "department_id"]
JOB_ROLE_FIELDS = ["name", "risk_level", "description"]


def _text(errors: dict, data: dict, name: str, limit: int, required: bool) -> str | None:
    value = str(data.get(name) or "").strip()
    if required and not value:
        errors[name] = ["Required."]
    elif len(value) > limit:
        errors[name] = [f"At most {limit} characters."]
    return value or None


def _apply(obj, fields: dict[str, Any]) -> bool:
    changed = False
    for key, value in fields.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed = True
    return changed


def _create(obj, entity: str, audit_fields: list[str], actor: User | None):
    """Insert an org unit with its audit row, in one transaction."""
    db.session.add(obj)
    db.session.flush()
    record_audit(
        "create", entity, obj.id, after=snapshot(read_back(obj), audit_fields), actor=actor
    )
    db.session.commit()
    return obj


def _update(obj, fields: dict[str, Any], entity: str, audit_fields: list[str], actor: User | None):
    """Apply changed fields with an audit row; an unchanged save writes nothing."""
    before = snapshot(obj, audit_fields)
    if _apply(obj, fields):
        after = snapshot(read_back(obj), audit_fields)
        record_audit("update", entity, obj.id, before=before, after=after, actor=actor)
        db.session.commit()
    return obj


# Departments ---------------------------------------------------------------------------------


def get_department(department_id: int) -> Department:
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound(f"Department {department_id} does not exist.")
    return department


def _validate_department(data: dict, department_id: int | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    name = _text(errors, data, "name", 120, True)
    site = _text(errors, data, "site", 120, False)
    if name and "name" not in errors:
        q = select(Department.id).where(func.lower(Department.name) == name.lower())
        if department_id is not None:
            q = q.where(Department.id != department_id)
        if db.session.scalar(q) is not None:
            errors["name"] = ["A department with this name exists."]
    if errors:
        raise Invalid("Some fields are not valid.", errors)
    return {"name": name, "site": site}


def create_department(data: dict, actor: User | None = None) -> Department:
    """Create a department. Raises Invalid."""
    return _create(Department(**_validate_department(data)), "department", DEPARTMENT_FIELDS, actor)


def update_department(department_id: int, data: dict, actor: User | None = None) -> Department:
    """Rename a department or change its site. Raises NotFound, Invalid."""
    department = get_department(department_id)
    fields = _validate_department(data, department.id)
    return _update(department, fields, "department", DEPARTMENT_FIELDS, actor)


def delete_department(department_id: int, actor: User | None = None) -> None:
    """Delete a department nobody and no team belongs to. Raises NotFound, Conflict."""
    department = get_department(department_id)
    people = _count(User.department_id == department.id)
    teams = db.session.scalar(
        select(func.count()).select_from(Team).where(Team.department_id == department.id)
    )
    if people or teams:
        raise Conflict(
            f"Department {department.name} is still used by {people} person(s) and "
            f"{teams} team(s); move or delete them first."
        )
    before = snapshot(department, DEPARTMENT_FIELDS)
    record_audit("delete", "department", department.id, before=before, actor=actor)
    db.session.delete(department)
    db.session.commit()


# Teams ---------------------------------------------------------------------------------------


def get_team(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound(f"Team {team_id} does not exist.")
    return team


def _validate_team(data: dict, team: Team | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    name = _text(errors, data, "name", 120, True)
    department_id = as_id(data.get("department_id"))
    if department_id is None or db.session.get(Department, department_id) is None:
        errors["department_id"] = ["Pick a department."]
    elif name and "name" not in errors:
        q = select(Team.id).where(
            Team.department_id == department_id, func.lower(Team.name) == name.lower()
        )
        if team is not None:
            q = q.where(Team.id != team.id)
        if db.session.scalar(q) is not None:
            errors["name"] = ["This department already has a team with this name."]
    if team is not None and department_id is not None and department_id != team.department_id:
        members = _count(User.team_id == team.id)
        if members:
            errors["department_id"] = [
                f"{members} person(s) are in this team; move them before moving the team."
            ]
    if errors:
        raise Invalid("Some fields are not valid.", errors)
    return {"name": name, "department_id": department_id}


def create_team(data: dict, actor: User | None = None) -> Team:
    """Create a team in a department. Raises Invalid."""
    return _create(Team(**_validate_team(data)), "team", TEAM_FIELDS, actor)


def update_team(team_id: int, data: dict, actor: User | None = None) -> Team:
    """Rename a team or move an empty team. Raises NotFound, Invalid."""
    team = get_team(team_id)
    return _update(team, _validate_team(data, team), "team", TEAM_FIELDS, actor)


def delete_team(team_id: int, actor: User | None = None) -> None:
    """Delete a team nobody belongs to. Raises NotFound, Conflict."""
    team = get_team(team_id)
    people = _count(User.team_id == team.id)
    if people:
        raise Conflict(
            f"Team {team.name} still has {people} person(s); move them to another team first."
        )
    record_audit("delete", "team", team.id, before=snapshot(team, TEAM_FIELDS), actor=actor)
    db.session.delete(team)
    db.session.commit()


# Job roles -----------------------------------------------------------------------------------


def get_job_role(job_role_id: int) -> JobRole:
    job_role = db.session.get(JobRole, job_role_id)
    if job_role is None:
        raise NotFound(f"Job role {job_role_id} does not exist.")
    return job_role


def _validate_job_role(data: dict, job_role_id: int | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    name = _text(errors, data, "name", 120, True)
    description = _text(errors, data, "description", 500, False)
    risk_level = str(data.get("risk_level") or "low").strip().lower()
    if risk_level not in RISK_LEVELS:
        errors["risk_level"] = [f"One of: {', '.join(RISK_LEVELS)}."]
    if name and "name" not in errors:
        q = select(JobRole.id).where(func.lower(JobRole.name) == name.lower())
        if job_role_id is not None:
            q = q.where(JobRole.id != job_role_id)
        if db.session.scalar(q) is not None:
            errors["name"] = ["A job role with this name exists."]
    if errors:
        raise Invalid("Some fields are not valid.", errors)
    return {"name": name, "risk_level": risk_level, "description": description}


def create_job_role(data: dict, actor: User | None = None) -> JobRole:
    """Create a job role with its risk level. Raises Invalid."""
    return _create(JobRole(**_validate_job_role(data)), "job_role", JOB_ROLE_FIELDS, actor)


def update_job_role(job_role_id: int, data: dict, actor: User | None = None) -> JobRole:
    """Edit a job role. Raises NotFound, Invalid."""
    job_role = get_job_role(job_role_id)
    fields = _validate_job_role(data, job_role.id)
    return _update(job_role, fields, "job_role", JOB_ROLE_FIELDS, actor)


def delete_job_role(job_role_id: int, actor: User | None = None) -> None:
    """Delete a job role nobody holds. Raises NotFound, Conflict."""
    job_role = get_job_role(job_role_id)
    people = _count(User.job_role_id == job_role.id)
    if people:
        raise Conflict(
            f"Job role {job_role.name} is held by {people} person(s); "
            "give them another job role first."
        )
    before = snapshot(job_role, JOB_ROLE_FIELDS)
    record_audit("delete", "job_role", job_role.id, before=before, actor=actor)
    db.session.delete(job_role)
    db.session.commit()


# Lists with usage counts ---------------------------------------------------------------------


def _count(condition) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(condition)) or 0


@dataclass
class OrgRow:
    """A department, team or job role with how many people (and teams) use it."""

    item: Any
    people: int
    teams: int = 0


def _people_counts(column) -> dict[int, int]:
    rows = db.session.execute(
        select(column, func.count()).where(column.is_not(None)).group_by(column)
    ).all()
    return dict(rows)


def list_departments() -> list[OrgRow]:
    """Every department by name, with people and team counts (three queries in all)."""
    people = _people_counts(User.department_id)
    teams = dict(
        db.session.execute(
            select(Team.department_id, func.count()).group_by(Team.department_id)
        ).all()
    )
    items = db.session.scalars(select(Department).order_by(Department.name)).all()
    return [OrgRow(d, people.get(d.id, 0), teams.get(d.id, 0)) for d in items]


def list_teams() -> list[OrgRow]:
    """Every team by department and name, with people counts."""
    people = _people_counts(User.team_id)
    items = team_choices()
    return [OrgRow(t, people.get(t.id, 0)) for t in items]


def list_job_roles() -> list[OrgRow]:
    """Every job role by name, with people counts."""
    people = _people_counts(User.job_role_id)
    items = db.session.scalars(select(JobRole).order_by(JobRole.name)).all()
    return [OrgRow(j, people.get(j.id, 0)) for j in items]


def department_choices() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name)))


def team_choices() -> list[Team]:
    """Teams with their departments loaded, ordered for a grouped menu."""
    return list(
        db.session.scalars(
            select(Team)
            .join(Team.department)
            .options(contains_eager(Team.department))
            .order_by(Department.name, Team.name)
        )
    )


def job_role_choices() -> list[JobRole]:
    return list(db.session.scalars(select(JobRole).order_by(JobRole.name)))
