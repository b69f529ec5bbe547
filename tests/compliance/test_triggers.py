"""The engine runs on the changes that matter: hire, role change, import; certificates of an
early renewal keep the cycle."""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.learning.certificates import issue_certificate_for_enrollment
from app.learning.models import Certification, Enrollment
from app.people.user_import import apply_user_import
from app.people.users import create_user, update_user
from app.platform import clock
from tests.compliance.factories import RequirementFactory
from tests.helpers.jobs import run_queued_jobs
from tests.learning.factories import CourseFactory
from tests.people.factories import JobRoleFactory, UserFactory


def requirement_enrollments(user_id: int) -> list[Enrollment]:
    return db.session.scalars(
        select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.source == "requirement")
    ).all()


def test_creating_a_person_in_a_role_assigns_their_training(app):
    role = JobRoleFactory(name="QC Analyst")
    req = RequirementFactory(job_role=role, due_days=10, due_basis="hire")
    admin = UserFactory()
    hired = clock.today() - timedelta(days=2)
    person = create_user(
        {
            "email": "new@example.com",
            "name": "New Hire",
            "job_role_id": role.id,
            "hire_date": hired.isoformat(),
        },
        actor=admin,
    )
    run_queued_jobs(app)  # with Redis the engine runs on a worker
    [enrollment] = requirement_enrollments(person.id)
    assert enrollment.course_id == req.course_id
    assert enrollment.due_date == hired + timedelta(days=10)


def test_changing_a_persons_role_assigns_the_new_roles_training(app):
    old, new = JobRoleFactory(), JobRoleFactory()
    req = RequirementFactory(job_role=new)
    person = UserFactory(job_role=old)
    assert requirement_enrollments(person.id) == []
    update_user(
        person.id,
        {"email": person.email, "name": person.name, "job_role_id": new.id},
        actor=UserFactory(),
    )
    run_queued_jobs(app)
    assert [e.course_id for e in requirement_enrollments(person.id)] == [req.course_id]


def test_importing_people_assigns_their_training(app):
    role = JobRoleFactory(name="Packer")
    req = RequirementFactory(job_role=role)
    apply_user_import(
        "email,name,job role\npacker@example.com,Pat Packer,Packer\n", actor=UserFactory()
    )
    run_queued_jobs(app)
    person = db.session.scalar(select(Enrollment.user_id).where(Enrollment.source == "requirement"))
    assert person is not None
    assert [e.course_id for e in requirement_enrollments(person)] == [req.course_id]


def test_early_renewal_certificate_expires_a_full_cycle_after_the_old_one(app):
    course = CourseFactory(validity_months=12)
    person = UserFactory()
    renewal = Enrollment(
        user_id=person.id,
        course_id=course.id,
        cycle=2,
        source="requirement",
        status="completed",
        completed_at=datetime(2026, 3, 1, 9, tzinfo=UTC),
        anchor_date=date(2026, 4, 15),
    )
    db.session.add(renewal)
    db.session.commit()
    cert = issue_certificate_for_enrollment(renewal.id)
    assert cert.issued_at.date() == date(2026, 3, 1)
    assert cert.expires_at.date() == date(2027, 4, 15)
    late = Enrollment(
        user_id=person.id,
        course_id=course.id,
        cycle=3,
        source="requirement",
        status="completed",
        completed_at=clock.now(),
        anchor_date=date(2020, 1, 1),
    )
    db.session.add(late)
    db.session.commit()
    cert = issue_certificate_for_enrollment(late.id)
    issued = cert.issued_at.date()  # a year later; 29 February renews on 28 February
    last_day = monthrange(issued.year + 1, issued.month)[1]
    assert cert.expires_at.date() == issued.replace(
        year=issued.year + 1, day=min(issued.day, last_day)
    )
    assert db.session.scalar(select(Certification.id).where(Certification.enrollment_id == late.id))
