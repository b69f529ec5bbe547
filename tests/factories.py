"""factory_boy factories for test data."""

from __future__ import annotations

from datetime import date

import factory
from factory.alchemy import SQLAlchemyModelFactory

from app.compliance.models import CompetencyRequirement, Curriculum
from app.extensions import db
from app.learning.models import Course, Enrollment, Module, QuizQuestion
from app.people.models import ApiToken, Department, JobRole, Team, User, UserRole

_PASSWORD_HASHES: dict[str, str] = {}


def password_hash(password: str = "password") -> str:
    if password not in _PASSWORD_HASHES:
        from app.people.auth import hash_password

        _PASSWORD_HASHES[password] = hash_password(password)
    return _PASSWORD_HASHES[password]


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class DepartmentFactory(Base):
    class Meta:
        model = Department

    name = factory.Sequence(lambda n: f"Department {n}")
    site = "Basel"


class TeamFactory(Base):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    department = factory.SubFactory(DepartmentFactory)


class JobRoleFactory(Base):
    class Meta:
        model = JobRole

    name = factory.Sequence(lambda n: f"Job role {n}")
    risk_level = "low"


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"User {n}")
    password_hash = factory.LazyFunction(password_hash)
    active = True

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or ("employee",):
            self.role_grants.append(UserRole(role=role))
        if create:
            db.session.commit()


class CourseFactory(Base):
    class Meta:
        model = Course

    code = factory.Sequence(lambda n: f"C-{n:04d}")
    title = factory.Sequence(lambda n: f"Course {n}")
    summary = "A course."
    category = "General"
    status = "published"


class ModuleFactory(Base):
    class Meta:
        model = Module

    course = factory.SubFactory(CourseFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = "text"
    title = factory.Sequence(lambda n: f"Module {n}")
    body = "Hello"
    settings = factory.LazyFunction(dict)


class QuizQuestionFactory(Base):
    class Meta:
        model = QuizQuestion

    module = factory.SubFactory(ModuleFactory, kind="quiz")
    kind = "single"
    prompt = "Pick one"
    options = factory.LazyFunction(lambda: ["a", "b"])
    answer = factory.LazyFunction(lambda: {"correct": [0]})


class EnrollmentFactory(Base):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    course = factory.SubFactory(CourseFactory)


class ApiTokenFactory(Base):
    class Meta:
        model = ApiToken

    name = "test"
    prefix = "x"
    token_hash = factory.Sequence(lambda n: f"{n:064d}")
    scopes = "read"


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
