"""A person with a full training history: two cycles of a course, a quiz result, a revoked and
an active certificate, a waiver and an assignment; plus their manager and HR."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from app.compliance.models import TrainingAssignment, Waiver
from app.extensions import db
from app.learning.certificates import issue_certificate_for_enrollment, revoke_certificate
from app.learning.models import Certification, Enrollment, Result
from app.people.models import User
from app.platform import clock
from tests.compliance.factories import RequirementFactory
from tests.learning.factories import CourseFactory, ModuleFactory
from tests.people.factories import DepartmentFactory, JobRoleFactory, TeamFactory, UserFactory


@dataclass
class History:
    person: User
    manager: User
    hr: User
    qa: User
    cycle1: Enrollment
    cycle2: Enrollment
    revoked: Certification
    active: Certification
    result: Result
    waiver: Waiver
    assignment: TrainingAssignment


def completed(person, course, days_ago: int, cycle: int, score: float) -> Enrollment:
    at = clock.now() - timedelta(days=days_ago)
    enrollment = Enrollment(
        user_id=person.id,
        course_id=course.id,
        cycle=cycle,
        source="requirement",
        status="completed",
        due_date=(at + timedelta(days=5)).date(),
        started_at=at - timedelta(days=1),
        completed_at=at,
        score=score,
    )
    db.session.add(enrollment)
    db.session.commit()
    return enrollment


@pytest.fixture
def history(app) -> History:
    dept = DepartmentFactory(name="Sterile Manufacturing")
    team = TeamFactory(name="Filling Line 2", department=dept)
    role = JobRoleFactory(name="Aseptic Operator", risk_level="high")
    manager = UserFactory(roles=["manager"], name="Margaret Manager", email="margaret@example.com")
    hr = UserFactory(roles=["hr"], name="Harriet HR")
    qa = UserFactory(roles=["qa"], name="Quentin QA")
    person = UserFactory(
        name="Ada Lovelace",
        email="ada.lovelace@example.com",
        department=dept,
        team=team,
        job_role=role,
        manager=manager,
        hire_date=date(2020, 2, 3),
    )
    course = CourseFactory(code="GMP-101", title="Good Manufacturing Practice", validity_months=12)
    quiz = ModuleFactory(course=course, kind="quiz", title="GMP final quiz", position=1)
    requirement = RequirementFactory(job_role=role, course=course, risk_level="high")
    other = RequirementFactory(
        job_role=role, course=CourseFactory(code="CLN-7", title="Cleanroom Gowning")
    )

    cycle1 = completed(person, course, days_ago=500, cycle=1, score=81)
    cycle2 = completed(person, course, days_ago=20, cycle=2, score=95)
    revoked = issue_certificate_for_enrollment(cycle1.id)
    revoke_certificate(revoked.id, qa, "Issued against the wrong SOP version")
    active = issue_certificate_for_enrollment(cycle2.id)
    result = Result(
        enrollment_id=cycle2.id,
        module_id=quiz.id,
        user_id=person.id,
        kind="quiz",
        attempt_no=1,
        status="graded",
        score=9.0,
        max_score=10.0,
        passed=True,
        submitted_at=cycle2.completed_at,
        graded_at=cycle2.completed_at,
    )
    waiver = Waiver(
        user_id=person.id,
        requirement_id=other.id,
        reason="Trained at previous employer",
        status="approved",
        starts_on=clock.today() - timedelta(days=10),
        ends_on=clock.today() + timedelta(days=300),
        requested_by_id=hr.id,
        decided_by_id=qa.id,
        decided_at=clock.now(),
        decision_note="Evidence on file",
    )
    assignment = TrainingAssignment(
        user_id=person.id,
        requirement_id=requirement.id,
        cycle=1,
        due_date=date(2020, 3, 4),
        reason="new requirement",
    )
    db.session.add_all([result, waiver, assignment])
    db.session.commit()
    return History(
        person, manager, hr, qa, cycle1, cycle2, revoked, active, result, waiver, assignment
    )


def pdf_text(data: bytes, tmp_path) -> str:
    """The text of a PDF via poppler's pdftotext (skips the test when it is missing)."""
    binary = shutil.which("pdftotext")
    if binary is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "record.pdf"
    path.write_bytes(data)
    out = subprocess.run(  # noqa: S603  (our own file, a fixed binary)
        [binary, "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return out.stdout
