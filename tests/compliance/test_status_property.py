"""The SQL status query agrees with a slow Python reference on random organisations.

The reference is written from the rules in app/compliance/recertification.py (RecertPolicy,
derive_status), person by person, requirement by requirement, slot by slot: the opposite of
the set-based query it checks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from app.compliance.models import (
    CompetencyRequirement,
    CompetencySubstitute,
    Curriculum,
    CurriculumCourse,
    TrainingAssignment,
    Waiver,
)
from app.compliance.recertification import RecertPolicy, derive_status
from app.compliance.statuses import statuses
from app.extensions import db
from app.learning.models import Course, Enrollment
from app.people.models import Department, JobRole, User

BASE = date(2024, 1, 1)
# Days land on a coarse grid (a few days of each month) and grace/window/due offsets are
# multiples of 10, so boundaries (expiry day, end of grace, due day) are hit often.
days = st.builds(
    lambda month, dom: (date(2024 + month // 12, month % 12 + 1, dom) - BASE).days,
    st.integers(0, 35),
    st.sampled_from([1, 11, 21, 28]),
)


def day(n: int) -> date:
    return BASE + timedelta(days=n)


def wipe() -> None:
    for model in (
        Waiver,
        TrainingAssignment,
        Enrollment,
        CompetencySubstitute,
        CompetencyRequirement,
        CurriculumCourse,
        Curriculum,
        User,
        Course,
        JobRole,
        Department,
    ):
        db.session.execute(delete(model))
    db.session.commit()


def build(data):
    """Draw and store a random organisation; return the facts the reference needs."""
    roles = [JobRole(name=f"role {i}") for i in range(2)]
    depts = [Department(name=f"dept {i}") for i in range(2)]
    db.session.add_all(roles + depts)
    db.session.flush()
    courses = []
    for i in range(4):
        validity = data.draw(st.sampled_from([None, 6, 12, 24]), label="validity")
        courses.append(
            Course(code=f"C{i}", title=f"C{i}", status="published", validity_months=validity)
        )
    db.session.add_all(courses)
    db.session.flush()
    program = Curriculum(
        code="P", title="P", validity_months=data.draw(st.sampled_from([None, 12]), label="pv")
    )
    db.session.add(program)
    db.session.flush()
    db.session.add_all(
        [
            CurriculumCourse(curriculum_id=program.id, course_id=courses[2].id, position=1),
            CurriculumCourse(curriculum_id=program.id, course_id=courses[3].id, position=2),
        ]
    )
    people = []
    for i in range(data.draw(st.integers(1, 5), label="people")):
        people.append(
            User(
                email=f"p{i}@example.com",
                name=f"P{i}",
                active=data.draw(st.booleans(), label="active") or i == 0,
                job_role_id=data.draw(st.sampled_from([None, *[r.id for r in roles]])),
                department_id=data.draw(st.sampled_from([None, *[d.id for d in depts]])),
            )
        )
    db.session.add_all(people)
    db.session.flush()

    requirements = []
    for _ in range(data.draw(st.integers(1, 4), label="requirements")):
        by_role = data.draw(st.booleans(), label="by role")
        on_program = data.draw(st.booleans(), label="program")
        mode = data.draw(st.sampled_from(["relative", "calendar"]), label="mode")
        start = data.draw(days, label="from")
        req = CompetencyRequirement(
            job_role_id=data.draw(st.sampled_from(roles)).id if by_role else None,
            department_id=None if by_role else data.draw(st.sampled_from(depts)).id,
            course_id=None if on_program else courses[data.draw(st.integers(0, 1))].id,
            curriculum_id=program.id if on_program else None,
            due_days=data.draw(st.sampled_from([0, 10, 30, 40]), label="due days"),
            recert_months=data.draw(st.sampled_from([None, 3, 12]), label="recert"),
            recert_mode=mode,
            recert_anchor_month=data.draw(st.integers(1, 12)) if mode == "calendar" else None,
            recert_window_days=data.draw(st.sampled_from([0, 10, 30, 60]), label="window"),
            grace_days=data.draw(st.sampled_from([0, 10, 20]), label="grace"),
            effective_from=day(start),
            effective_to=data.draw(st.sampled_from([None, day(start + 400)]), label="to"),
        )
        db.session.add(req)
        db.session.flush()
        if not on_program and data.draw(st.booleans(), label="substitute"):
            db.session.add(CompetencySubstitute(requirement_id=req.id, course_id=courses[3].id))
        requirements.append(req)

    for person in people:
        for course in courses:
            cycles = data.draw(st.integers(0, 2), label="cycles")
            for cycle in range(1, cycles + 1):
                completed = data.draw(st.booleans(), label="completed")
                anchor = data.draw(st.one_of(st.none(), days), label="anchor")
                db.session.add(
                    Enrollment(
                        user_id=person.id,
                        course_id=course.id,
                        cycle=cycle,
                        source="requirement",
                        status="completed" if completed else "in_progress",
                        completed_at=datetime.combine(
                            day(data.draw(days, label="done")), datetime.min.time(), UTC
                        )
                        + timedelta(hours=data.draw(st.integers(0, 23)))
                        if completed
                        else None,
                        anchor_date=day(anchor) if anchor is not None else None,
                    )
                )
        for req in requirements:
            for cycle in range(1, data.draw(st.integers(0, 2), label="assignments") + 1):
                db.session.add(
                    TrainingAssignment(
                        user_id=person.id,
                        requirement_id=req.id,
                        cycle=cycle,
                        due_date=day(data.draw(days, label="due")),
                    )
                )
            if data.draw(st.booleans(), label="waiver"):
                start = data.draw(days, label="waiver from")
                db.session.add(
                    Waiver(
                        user_id=person.id,
                        requirement_id=req.id,
                        reason="r",
                        status=data.draw(st.sampled_from(["approved", "pending", "rejected"])),
                        starts_on=day(start),
                        ends_on=day(start + data.draw(st.sampled_from([0, 10, 30, 300]))),
                    )
                )
    db.session.commit()


def reference(on: date) -> list[tuple]:
    """Person by person, the rules of the design in plain Python."""
    out = []
    people = db.session.query(User).filter(User.active.is_(True)).all()
    requirements = db.session.query(CompetencyRequirement).all()
    enrollments = db.session.query(Enrollment).filter(Enrollment.status == "completed").all()
    for person in people:
        for req in requirements:
            if not (
                req.effective_from <= on and (req.effective_to is None or req.effective_to >= on)
            ):
                continue
            applies = (req.job_role_id and req.job_role_id == person.job_role_id) or (
                req.department_id and req.department_id == person.department_id
            )
            if not applies:
                continue
            if req.course_id:
                slots = [
                    [req.course_id, *[s.course_id for s in req.substitutes]],
                ]
            else:
                slots = [[cc.course_id] for cc in req.curriculum.courses]
            best = []
            for slot in slots:
                candidates = []
                for e in enrollments:
                    if e.user_id != person.id or e.course_id not in slot:
                        continue
                    if e.completed_at.astimezone(UTC).date() > on:
                        continue
                    if req.curriculum_id:
                        months = req.recert_months or req.curriculum.validity_months
                    else:
                        months = (
                            req.recert_months or db.session.get(Course, e.course_id).validity_months
                        )
                    policy = RecertPolicy(
                        months,
                        req.recert_mode,
                        req.recert_anchor_month,
                        req.recert_window_days,
                        req.grace_days,
                    )
                    done_on = e.completed_at.astimezone(UTC).date()
                    until = policy.valid_until(done_on, e.anchor_date) or date.max
                    candidates.append((until, done_on))
                if candidates:
                    best.append((max(c[0] for c in candidates), max(c[1] for c in candidates)))
            done = bool(slots) and len(best) == len(slots)
            valid_until = min(b[0] for b in best) if done else None
            dues = [
                a.due_date
                for a in db.session.query(TrainingAssignment).filter_by(
                    user_id=person.id, requirement_id=req.id
                )
            ]
            waived = any(
                w.status == "approved" and w.starts_on <= on <= w.ends_on
                for w in db.session.query(Waiver).filter_by(
                    user_id=person.id, requirement_id=req.id
                )
            )
            status = derive_status(
                on,
                done=done,
                valid_until=None if valid_until in (None, date.max) else valid_until,
                grace_days=req.grace_days,
                due_date=max(dues) if dues else None,
                waived=waived,
            )
            shown_until = valid_until if valid_until not in (None, date.max) else None
            out.append((person.id, req.id, status, shown_until))
    return sorted(out)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), on=days)
def test_status_query_agrees_with_the_reference(app, data, on):
    wipe()
    build(data)
    # The drawn day, plus the days where statuses flip: expiry, end of grace, due dates.
    when = {day(on)}
    for _, req_id, _, until in reference(day(on)):
        if until is not None:
            grace = db.session.get(CompetencyRequirement, req_id).grace_days
            when |= {until, until + timedelta(days=grace), until - timedelta(days=30)}
    for a in db.session.query(TrainingAssignment).all():
        when |= {a.due_date, a.due_date + timedelta(days=1), a.due_date - timedelta(days=30)}
    for moment in sorted(when):
        got = sorted(
            (r.user_id, r.requirement_id, r.status, r.valid_until) for r in statuses(moment)
        )
        assert got == reference(moment), moment
