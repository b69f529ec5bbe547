"""Compliance snapshots: one row per day, unit and status, for the 12-month trend."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import (
    func,
    select,
)

from app.compliance.statuses import Scope, status_query
from app.extensions import db
from app.people.models import User
from app.platform import clock


def snapshot_counts(
    on: date, scope: Scope = Scope()
) -> list[tuple[int | None, int | None, int, int]]:
    """(department_id, job_role_id, applicable, compliant) per department, per job role and
    for the whole organisation (both NULL), as of `on`."""
    st = status_query(on, scope).subquery("st")
    base = (
        select(User.department_id, User.job_role_id, st.c.ok)
        .select_from(st)
        .join(User, User.id == st.c.user_id)
        .subquery("base")
    )
    counted = (func.count(), func.coalesce(func.sum(base.c.ok), 0))
    applicable, compliant = db.session.execute(select(*counted)).one()
    out = [(None, None, applicable, int(compliant))]
    for column in (base.c.department_id, base.c.job_role_id):
        q = select(column, *counted).where(column.is_not(None)).group_by(column)
        for key, applicable, compliant in db.session.execute(q).all():
            dept = key if column is base.c.department_id else None
            role = key if column is base.c.job_role_id else None
            out.append((dept, role, applicable, int(compliant)))
    return out


def take_snapshot(on: date | None = None) -> int:
    """Store today's counts (replacing any taken earlier the same day); returns rows stored."""
    from sqlalchemy import delete

    from app.compliance.models import ComplianceSnapshot

    on = on or clock.today()
    rows = snapshot_counts(on)
    db.session.execute(delete(ComplianceSnapshot).where(ComplianceSnapshot.taken_on == on))
    db.session.add_all(
        ComplianceSnapshot(
            taken_on=on,
            department_id=dept,
            job_role_id=role,
            applicable=applicable,
            compliant=compliant,
        )
        for dept, role, applicable, compliant in rows
    )
    db.session.commit()
    return len(rows)


def backfill_snapshots(months: int = 12, on: date | None = None) -> int:
    """Take a snapshot for each of the last `months` month ends that has none (a new install's
    trend); counts use today's organisation. Returns how many month ends were filled."""
    from app.compliance.models import ComplianceSnapshot

    on = on or clock.today()
    filled = 0
    first = on.replace(day=1)
    for _ in range(months):
        end = first - timedelta(days=1)
        first = end.replace(day=1)
        has_one = db.session.scalar(
            select(ComplianceSnapshot.id).where(
                ComplianceSnapshot.taken_on >= first, ComplianceSnapshot.taken_on <= end
            )
        )
        if has_one is None:
            take_snapshot(end)
            filled += 1
    return filled
