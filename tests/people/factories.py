"""Factories of the people domain: organisation units, users, API tokens."""

from __future__ import annotations

import factory

from app.extensions import db
from app.people.models import ApiToken, Department, JobRole, Team, User, UserRole
from tests.helpers.factories import Base, password_hash


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


class ServiceAccountFactory(UserFactory):
    """A system integration's account: named as such, no password."""

    kind = "service"
    email = factory.Sequence(lambda n: f"service-{n}@service-account.invalid")
    name = factory.Sequence(lambda n: f"System {n} (service account)")
    password_hash = None


class ApiTokenFactory(Base):
    class Meta:
        model = ApiToken

    name = "test"
    prefix = "x"
    token_hash = factory.Sequence(lambda n: f"{n:064d}")
    scopes = "read"
