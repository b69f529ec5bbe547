"""Factories of the compliance domain: programs, requirements, waivers, and completions on a
given day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import factory
from sqlalchemy import select

from app.compliance.models import CompetencyRequirement, Curriculum, Waiver
from app.extensions import db
from app.learning.models import Enrollment
from app.platform import clock
from tests.helpers.factories import Base
from tests.learning.factories import CourseFactory
from tests.people.factories import JobRoleFactory, UserFactory


class CurriculumFactory(Base):
    class Meta:
        model = Curriculum

    code = factory.Sequence(lambda n: f"P-{n:04d}")
    title = factory.Sequence(lambda n: f"Program {n}")


class RequirementFactory(Base):
    class Meta:
        model = CompetencyRequirement

    job_role = factory.SubFactory(JobRoleFactory)
    course = factory.SubFactory(CourseFactory)
    due_days = 30
    due_basis = "assignment"
    effective_from = factory.LazyFunction(lambda: date(2000, 1, 1))


class WaiverFactory(Base):
    class Meta:
        model = Waiver

    user = factory.SubFactory(UserFactory)
    requirement = factory.SubFactory(RequirementFactory)
    reason = "Holds an equivalent external qualification."
    status = "pending"
    starts_on = factory.LazyFunction(lambda: clock.today())
    ends_on = factory.LazyFunction(lambda: clock.today() + timedelta(days=180))


def at(day: date) -> datetime:
    """Noon UTC on `day`: a completion time that is the same day everywhere we look."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def complete(user, course, day: date) -> Enrollment:
    """Mark the person's open enrollment (or a new one) in `course` completed on `day`."""
    enrollment = db.session.scalar(
        select(Enrollment)
        .where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
        .order_by(Enrollment.cycle.desc())
    )
    if enrollment is None or enrollment.status == "completed":
        enrollment = Enrollment(
            user_id=user.id,
            course_id=course.id,
            cycle=(enrollment.cycle + 1) if enrollment else 1,
            source="self",
        )
        db.session.add(enrollment)
    enrollment.status = "completed"
    enrollment.completed_at = at(day)
    db.session.commit()
    return enrollment
