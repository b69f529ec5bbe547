"""`flask seed-demo` and `flask seed-scale` through the CLI runner."""

from __future__ import annotations

from sqlalchemy import func, select

from app.demo.scale import SCALE_DOMAIN
from app.demo.seed import DEMO_PASSWORD, LOGINS
from app.extensions import db
from app.learning.models import Course, Module, QuizQuestion
from app.people.models import Department, JobRole, SellerProfile, Team, User, UserRole
from tests.conftest import csrf

TABLES = (Department, Team, JobRole, User, UserRole, Course, Module, QuizQuestion)


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) for m in TABLES}


def test_seed_demo_is_idempotent_and_prints_logins(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    after_first = _counts()
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    assert _counts() == after_first
    assert "nothing to create" in second.output

    for output in (first.output, second.output):
        assert "admin@example.com" in output
        assert DEMO_PASSWORD in output
    login_block = first.output[first.output.index("Demo logins") :]
    assert login_block == second.output[second.output.index("Demo logins") :]


def test_seed_demo_builds_a_believable_organisation(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    counts = _counts()
    assert 55 <= counts["users"] <= 70
    assert db.session.scalar(select(func.count()).select_from(SellerProfile)) == 15
    sites = set(db.session.scalars(select(Department.site)))
    assert sites == {"Basel", "Leeds"}
    high = set(db.session.scalars(select(JobRole.name).where(JobRole.risk_level == "high")))
    assert {"QC Analyst", "Production Operator", "Fulfillment Associate", "Finance Clerk"} <= high

    roles = {
        role: db.session.scalar(select(func.count()).where(UserRole.role == role))
        for role in ("admin", "hr", "qa", "trainer", "manager", "seller")
    }
    assert roles["seller"] == 15
    assert all(n >= 1 for n in roles.values()), roles
    assert roles["trainer"] >= 2 and roles["manager"] >= 3

    # Every listed login exists, is active and holds the role it is listed under.
    for role, email in LOGINS:
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None and user.active, email
        assert role in user.roles, (email, user.roles)
        if role != "admin":
            assert user.manager_id is not None, email


def test_seed_demo_courses_have_modules_and_valid_questions(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    published = db.session.scalars(select(Course).where(Course.status == "published")).all()
    assert len(published) >= 12
    assert db.session.scalar(select(func.count()).where(Course.status == "draft")) >= 1
    assert {"de", "fr"} <= {c.language for c in published}
    for course in published:
        assert 3 <= len(course.modules) <= 5, course.code
        assert [m.position for m in course.modules] == list(range(1, len(course.modules) + 1))
        assert course.tags.startswith(",") and course.tags.endswith(","), course.code
    assert any(c.validity_months for c in published)

    kinds = set()
    for q in db.session.scalars(select(QuizQuestion)):
        kinds.add(q.kind)
        if q.kind in ("single", "multiple"):
            assert q.answer["correct"] and all(0 <= i < len(q.options) for i in q.answer["correct"])
        elif q.kind == "true_false":
            assert isinstance(q.answer["correct"], bool)
        elif q.kind == "numeric":
            assert isinstance(q.answer["value"], int | float) and q.answer["tolerance"] >= 0
        else:
            assert q.answer["accepted"]
        assert q.explanation and q.topic
    assert kinds == {"single", "multiple", "true_false", "numeric", "short_text"}
    module_kinds = set(db.session.scalars(select(Module.kind)))
    assert {"text", "quiz", "assignment", "scenario"} <= module_kinds


def test_demo_admin_can_sign_in_with_the_printed_password(runner, client):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    resp = client.post(
        "/login",
        data={"email": "admin@example.com", "password": DEMO_PASSWORD, "csrf_token": csrf(client)},
    )
    assert resp.status_code == 302
    assert client.get("/home").status_code == 200


def test_seed_scale_creates_the_requested_amounts_once(runner):
    result = runner.invoke(args=["seed-scale", "--employees", "50", "--courses", "10"])
    assert result.exit_code == 0, result.output
    assert "Scale data created" in result.output
    scale = User.email.like(f"%@{SCALE_DOMAIN}")
    assert db.session.scalar(select(func.count()).where(scale)) == 50
    sellers = select(func.count()).select_from(SellerProfile).join(User).where(scale)
    assert db.session.scalar(sellers) == 5
    assert db.session.scalar(select(func.count()).where(Course.code.like("SC-%"))) == 10
    assert db.session.scalar(select(func.count()).select_from(Module)) == 30
    # Everyone but the team leads reports to a manager, and every person has an access role.
    no_manager = db.session.scalar(select(func.count()).where(scale, User.manager_id.is_(None)))
    assert no_manager == db.session.scalar(select(func.count()).select_from(Team))
    roleless = db.session.scalar(select(func.count()).where(scale, ~User.role_grants.any()))
    assert roleless == 0

    before = _counts()
    again = runner.invoke(args=["seed-scale", "--employees", "50", "--courses", "10"])
    assert again.exit_code == 0
    assert "already present" in again.output
    assert _counts() == before


def test_scale_accounts_sign_in_with_the_shared_password(runner, client):
    from app.demo.scale import SCALE_PASSWORD

    assert runner.invoke(args=["seed-scale", "--employees", "30", "--courses", "3"]).exit_code == 0
    email = db.session.scalar(
        select(User.email).where(User.email.like(f"%@{SCALE_DOMAIN}"), User.active.is_(True))
    )
    resp = client.post(
        "/login", data={"email": email, "password": SCALE_PASSWORD, "csrf_token": csrf(client)}
    )
    assert resp.status_code == 302


def test_seed_scale_enrollments_are_distinct_mixed_and_seeded_once(runner):
    from app.learning.models import Enrollment, Progress, Result

    args = ["seed-scale", "--employees", "30", "--courses", "5", "--enrollments", "60"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "Scale enrollments created" in result.output
    db.session.expire_all()
    rows = db.session.execute(
        select(Enrollment.user_id, Enrollment.course_id, Enrollment.cycle, Enrollment.status)
    ).all()
    assert len(rows) == 60
    assert len({(u, c, cy) for u, c, cy, _ in rows}) == 60
    published = set(db.session.scalars(select(Course.id).where(Course.status == "published")))
    assert {c for _, c, _, _ in rows} <= published
    statuses = {s for *_, s in rows}
    assert statuses == {"assigned", "in_progress", "completed"}

    # Started enrollments have progress; a completed one has every module done and a pass.
    started = db.session.scalars(select(Enrollment).where(Enrollment.status != "assigned")).all()
    for enrollment in started:
        progress = db.session.scalars(
            select(Progress).where(Progress.enrollment_id == enrollment.id)
        ).all()
        assert progress, enrollment.id
        if enrollment.status == "completed":
            assert len(progress) == 3 and {p.status for p in progress} == {"completed"}
            passed = db.session.scalar(
                select(func.count()).where(
                    Result.enrollment_id == enrollment.id,
                    Result.status == "graded",
                    Result.passed.is_(True),
                )
            )
            assert passed == 1
    assigned = select(Enrollment.id).where(Enrollment.status == "assigned")
    assert not db.session.scalar(select(func.count()).where(Progress.enrollment_id.in_(assigned)))
    assert db.session.scalar(select(func.count()).select_from(Result)) > 0

    again = runner.invoke(args=args)
    assert again.exit_code == 0, again.output
    assert "Scale enrollments already present (60)" in again.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Enrollment)) == 60
