"""Demo compliance data: programs, the competency matrix, a training history with some
certificates expired or expiring, and a year of snapshots for the trend chart (the waivers are
requested and decided through the services: app/demo/activity.py).

Part of `flask seed-demo`; skipped when the demo matrix exists already.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.compliance.models import CompetencyRequirement, Curriculum, CurriculumCourse
from app.extensions import db
from app.learning.models import Course, Enrollment
from app.people.models import Department, JobRole, User
from app.platform import clock

DEMO_MARK = "demo"

PROGRAMS = [
    ("GMP-CORE", "GMP core curriculum", 12, ["GMP-101", "GMP-110", "GMP-120"]),
    ("SELLER-ONB", "Seller onboarding program", None, ["MKT-101", "MKT-120", "MKT-130"]),
]

# (scope kind, scope name, target code, options)
REQUIREMENTS = [
    ("job_role", "QC Analyst", "GMP-CORE", {"due_basis": "hire", "due_days": 30}),
    ("job_role", "Production Operator", "GMP-CORE", {"due_basis": "hire", "due_days": 30}),
    (
        "job_role",
        "Production Operator",
        "SAF-101",
        {"recert_months": 12, "recert_mode": "calendar", "recert_anchor_month": 1},
    ),
    ("job_role", "QA Specialist", "GMP-110", {"recert_months": 12}),
    ("job_role", "QA Specialist", "QA-210", {"due_days": 60}),
    ("job_role", "Laboratory Manager", "QA-210", {"due_days": 60}),
    ("job_role", "Fulfillment Associate", "FUL-301", {"recert_months": 12, "grace_days": 14}),
    ("job_role", "Fulfillment Associate", "SAF-101", {"due_days": 14}),
    ("job_role", "Finance Clerk", "FIN-110", {"recert_months": 12}),
    ("job_role", "Finance Manager", "FIN-110", {"recert_months": 12}),
    ("job_role", "Customer Support Agent", "CS-101", {"due_days": 30}),
    ("job_role", "Seller", "SELLER-ONB", {"due_basis": "hire", "due_days": 14}),
    ("department", "Quality & Manufacturing", "SEC-101", {"due_days": 45}),
    ("department", "Marketplace Operations", "SEC-101", {"due_days": 45}),
    ("department", "Marketplace Operations", "CMP-101", {"due_days": 90}),
]


def demo_compliance_present() -> bool:
    return (
        db.session.scalar(
            select(CompetencyRequirement.id).where(CompetencyRequirement.notes == DEMO_MARK)
        )
        is not None
    )


def seed_demo_compliance(report) -> None:
    """Add the demo matrix and history (in the caller's transaction) unless present."""
    if demo_compliance_present():
        return
    courses = {c.code: c for c in db.session.scalars(select(Course))}
    programs = _programs(courses, report)
    roles = {r.name: r for r in db.session.scalars(select(JobRole))}
    depts = {d.name: d for d in db.session.scalars(select(Department))}
    today = clock.today()
    for kind, scope, target, options in REQUIREMENTS:
        unit = roles.get(scope) if kind == "job_role" else depts.get(scope)
        if unit is None:
            continue
        program = programs.get(target)
        course = courses.get(target)
        if program is None and course is None:
            continue
        values = {
            "due_days": 30,
            "due_basis": "assignment",
            "risk_level": getattr(unit, "risk_level", "medium"),
            **options,
        }
        db.session.add(
            CompetencyRequirement(
                job_role_id=unit.id if kind == "job_role" else None,
                department_id=unit.id if kind == "department" else None,
                course_id=course.id if program is None else None,
                curriculum_id=program.id if program is not None else None,
                # Hire-based requirements came in recently (due soon for people hired before).
                effective_from=today - timedelta(days=20 if values["due_basis"] == "hire" else 400),
                notes=DEMO_MARK,
                **values,
            )
        )
        report.add("requirements")
    db.session.flush()
    _history(courses, today, report)


def _programs(courses: dict[str, Course], report) -> dict[str, Curriculum]:
    existing = {p.code: p for p in db.session.scalars(select(Curriculum))}
    for code, title, validity, members in PROGRAMS:
        if code in existing:
            continue
        program = Curriculum(code=code, title=title, validity_months=validity, status="active")
        for position, course_code in enumerate(members, start=1):
            if course_code in courses:
                program.courses.append(
                    CurriculumCourse(course_id=courses[course_code].id, position=position)
                )
        db.session.add(program)
        existing[code] = program
        report.add("programs")
    db.session.flush()
    return existing


def _history(courses: dict[str, Course], today: date, report) -> None:
    """Completions of required courses spread over the last two years: most people trained,
    some certificates expired or expiring, some people not trained yet."""
    rng = random.Random(42)
    required = db.session.execute(
        select(User.id, Course.id)
        .join(
            CompetencyRequirement,
            (CompetencyRequirement.job_role_id == User.job_role_id)
            | (CompetencyRequirement.department_id == User.department_id),
        )
        .join(
            Course,
            (Course.id == CompetencyRequirement.course_id)
            | Course.id.in_(
                select(CurriculumCourse.course_id).where(
                    CurriculumCourse.curriculum_id == CompetencyRequirement.curriculum_id
                )
            ),
        )
        .where(User.active.is_(True), CompetencyRequirement.notes == DEMO_MARK)
        .distinct()
        .order_by(User.id, Course.id)
    ).all()
    taken = set(db.session.execute(select(Enrollment.user_id, Enrollment.course_id)).all())
    for user_id, course_id in required:
        if (user_id, course_id) in taken or rng.random() < 0.2:
            continue
        done = today - timedelta(days=rng.randint(5, 560))
        completed_at = datetime.combine(done, time(10, 30), UTC)
        db.session.add(
            Enrollment(
                user_id=user_id,
                course_id=course_id,
                cycle=1,
                source="import",
                status="completed",
                # Recorded in Cadre when imported, after the completion it records.
                created_at=min(completed_at + timedelta(days=rng.randint(1, 20)), clock.now()),
                started_at=completed_at - timedelta(hours=rng.randint(1, 48)),
                completed_at=completed_at,
                score=float(rng.randint(80, 100)),
            )
        )
        taken.add((user_id, course_id))
        report.add("historical completions")
    db.session.flush()


def finish_demo_compliance() -> None:
    """After the commit: run the engine and take a month-end snapshot for each of the last
    12 months (so the trend chart has a past).

    The history is "imported" from a previous system, so it carries no Cadre certificates,
    as records migrated into a new LMS would not."""
    from app.compliance.engine import run_requirement_engine
    from app.compliance.snapshots import backfill_snapshots, take_snapshot

    run_requirement_engine(cause="demo data")
    backfill_snapshots(12)
    take_snapshot()
