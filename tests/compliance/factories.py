"""Factories of the compliance domain: programs, requirements, waivers."""

from __future__ import annotations

from datetime import date, timedelta

import factory

from app.compliance.models import CompetencyRequirement, Curriculum, Waiver
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
