"""A small organisation with every compliance status, for the report, page and API tests.

As of today (the pages read today's date):

| person | department | job role | manager | GMP (12 months) | Safety (no expiry) | SOP (Quality) |
|--------|------------|----------|---------|-----------------|--------------------|---------------|
| Alice  | Production | Operator | Mia     | compliant       | overdue            | -             |
| Bob    | Production | Operator | Mia     | due_soon (done) | compliant          | -             |
| Carol  | Quality    | Analyst  | -       | overdue         | -                  | waived        |
| Dave   | Quality    | Analyst  | -       | expired         | -                  | compliant     |
| Erin   | Quality    | Operator | -       | due_soon        | not_started        | due_soon      |

Bob's GMP expires in about 20 days.
Production 3/4 = 75 %, Quality 2/7 = 28 %; Operator 3/7 = 42 %, Analyst 2/4 = 50 %; all 5/11 = 45 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from app.compliance.engine import run_requirement_engine
from app.compliance.models import Waiver
from app.compliance.recertification import add_months_to_date
from app.compliance.reports import today
from app.extensions import db
from app.people.models import User
from tests.compliance.factories import RequirementFactory, complete
from tests.learning.factories import CourseFactory
from tests.people.factories import DepartmentFactory, JobRoleFactory, UserFactory


@dataclass
class Org:
    today: date
    production: object
    quality: object
    operator: object
    analyst: object
    gmp: object
    safety: object
    sop: object
    req_gmp_operator: object
    req_gmp_analyst: object
    req_safety: object
    req_sop: object
    mia: User
    alice: User
    bob: User
    carol: User
    dave: User
    erin: User
    hr: User
    qa: User
    employee: User
    bob_valid_until: date
    dave_valid_until: date


@pytest.fixture
def org(app) -> Org:
    on = today()
    production = DepartmentFactory(name="Production")
    quality = DepartmentFactory(name="Quality")
    operator = JobRoleFactory(name="Operator")
    analyst = JobRoleFactory(name="Analyst")
    gmp = CourseFactory(code="GMP-1", title="GMP basics", validity_months=12)
    safety = CourseFactory(code="SAF-1", title="Safety induction")
    sop = CourseFactory(code="SOP-7", title="SOP 7 cleaning")
    req_gmp_operator = RequirementFactory(job_role=operator, course=gmp, due_days=30)
    req_gmp_analyst = RequirementFactory(job_role=analyst, course=gmp, due_days=30)
    req_safety = RequirementFactory(job_role=operator, course=safety, due_days=45)
    req_sop = RequirementFactory(job_role=None, department=quality, course=sop, due_days=30)

    mia = UserFactory(name="Mia Manager", roles=["manager"], department=production)
    hr = UserFactory(name="Hana HR", roles=["hr"])
    qa = UserFactory(name="Quentin QA", roles=["qa"])
    employee = UserFactory(name="Emil Employee", roles=["employee"])

    def person(name, dept, role, manager=None):
        return UserFactory(
            name=name,
            email=f"{name.split()[0].lower()}@example.com",
            department=dept,
            job_role=role,
            manager=manager,
        )

    alice = person("Alice Adams", production, operator, mia)
    bob = person("Bob Brown", production, operator, mia)
    carol = person("Carol Clark", quality, analyst)
    dave = person("Dave Dunn", quality, analyst)

    # Assigned 60 days ago: due 30 (GMP, SOP) and 15 (Safety) days ago.
    run_requirement_engine(on=on - timedelta(days=60))
    complete(alice, gmp, on - timedelta(days=40))
    bob_done = add_months_to_date(on + timedelta(days=20), -12)
    complete(bob, gmp, bob_done)
    complete(bob, safety, on - timedelta(days=50))
    dave_done = add_months_to_date(on - timedelta(days=30), -12)
    complete(dave, gmp, dave_done)
    complete(dave, sop, on - timedelta(days=50))
    db.session.add(
        Waiver(
            user_id=carol.id,
            requirement_id=req_sop.id,
            reason="Not on the cleaning rota",
            status="approved",
            starts_on=on - timedelta(days=10),
            ends_on=on + timedelta(days=100),
        )
    )
    db.session.commit()
    # Erin joins today: GMP and SOP due in 30 days, Safety in 45.
    erin = person("Erin Evans", quality, operator)
    run_requirement_engine(on=on)
    return Org(
        on,
        production,
        quality,
        operator,
        analyst,
        gmp,
        safety,
        sop,
        req_gmp_operator,
        req_gmp_analyst,
        req_safety,
        req_sop,
        mia,
        alice,
        bob,
        carol,
        dave,
        erin,
        hr,
        qa,
        employee,
        add_months_to_date(bob_done, 12),
        add_months_to_date(dave_done, 12),
    )
