"""Fixtures for controlled documents: an organisation with one affected job role and one
affected department, QA, and helpers that go through the real services."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.audit.signatures import manifestations_for
from app.extensions import db
from app.gxp import documents as svc
from app.gxp import versions
from app.learning.models import Enrollment
from tests.people.factories import DepartmentFactory, JobRoleFactory, UserFactory

PASSWORD = "password"  # the factories' password

V1_TEXT = "Purpose\nClean the line before each batch.\nUse detergent A.\nSign the log.\n"
V2_TEXT = V1_TEXT.replace("detergent A.", "detergent B <script>x</script>.")


def text_file(content: str, name: str = "sop.txt") -> FileStorage:
    return FileStorage(stream=io.BytesIO(content.encode()), filename=name)


@dataclass
class Org:
    """QA is the approver; an SOP's segregation of duties wants its author and reviewer to be
    two other people."""

    qa: object
    author: object
    reviewer: object
    role: object
    dept: object
    in_role: object
    in_dept: object
    in_both: object
    outsider: object
    inactive: object

    @property
    def affected_ids(self) -> set[int]:
        return {self.in_role.id, self.in_dept.id, self.in_both.id}


@pytest.fixture
def org(app) -> Org:
    role, dept, other = JobRoleFactory(name="Operator"), DepartmentFactory(), DepartmentFactory()
    return Org(
        qa=UserFactory(roles=["qa"], name="Quinn QA", department=other),
        author=UserFactory(roles=["qa"], name="Abe Author", department=other),
        reviewer=UserFactory(roles=["qa"], name="Rita Reviewer", department=other),
        role=role,
        dept=dept,
        in_role=UserFactory(name="Ann Role", job_role=role),
        in_dept=UserFactory(name="Ben Dept", department=dept),
        in_both=UserFactory(name="Cai Both", job_role=role, department=dept),
        outsider=UserFactory(name="Dan Out", department=other),
        inactive=UserFactory(name="Eve Gone", job_role=role, active=False),
    )


def new_document(org: Org, number: str = "SOP-QA-001", due_days: int = 14):
    return svc.create_document(
        {
            "number": number,
            "title": "Line clearance",
            "training_due_days": str(due_days),
            "job_role_ids": [str(org.role.id)],
            "department_ids": [str(org.dept.id)],
            "owner_email": org.qa.email,
        },
        org.qa,
    )


def upload(org: Org, doc, label: str, content: str):
    return versions.add_version(doc.id, {"version": label}, text_file(content), org.author)


def effective(org: Org, version, on=None):
    from app.platform import clock

    day = (on or clock.today()).isoformat()
    return versions.make_effective(
        version.document_id, version.id, {"effective_date": day}, PASSWORD, org.qa
    )


def classify(org: Org, version, change_class: str, reason=None, note=None):
    data = {"change_class": change_class, "change_reason": reason, "change_note": note}
    return versions.classify_version(version.document_id, version.id, data, PASSWORD, org.reviewer)


def enrollments_for(version) -> list[Enrollment]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Enrollment)
            .where(Enrollment.document_version_id == version.id)
            .order_by(Enrollment.user_id)
        )
    )


def signatures(entity: str, entity_id) -> list:
    db.session.expire_all()
    return manifestations_for(entity, entity_id)
