"""`flask seed-demo` shows a living organisation: people have tried quizzes, earned (and let
lapse) certificates, handed in work to grade, booked sessions, asked for waivers and drafted
documents, all through the services, so the records agree with the engine."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.classroom.models import SessionRegistration, TrainingSession
from app.compliance.models import CompetencyRequirement, Waiver
from app.compliance.statuses import Scope, statuses
from app.extensions import db
from app.gxp.models import DocumentVersion
from app.learning import assignments
from app.learning.certificates import certificate_status
from app.learning.models import Certification, Course, Result
from app.notifications.models import Notification
from app.people.models import ApiToken, User
from app.people.permissions import can
from app.platform import clock
from app.platform.audit import AuditLog
from tests.conftest import csrf


@pytest.fixture
def seeded(runner):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def audited(entity: str, entity_id) -> bool:
    return bool(count(AuditLog, AuditLog.entity == entity, AuditLog.entity_id == str(entity_id)))


def test_seed_demo_leaves_a_year_of_activity_behind(seeded, runner):
    assert re.search(r"Seeded in \d+\.\d s\.", seeded)

    # Quiz attempts, passed and failed, each through the quiz service; two at most per quiz.
    quiz = db.session.scalars(select(Result).where(Result.kind == "quiz")).all()
    assert {r.passed for r in quiz} == {True, False}
    assert all(r.status == "graded" and audited("result", r.id) for r in quiz)
    tries = Counter((r.enrollment_id, r.module_id) for r in quiz)
    assert max(tries.values()) == 2

    # Certificates from completions: valid, expiring within 30 days, and one expired.
    certs = db.session.scalars(select(Certification)).all()
    mix = Counter(certificate_status(c) for c in certs)
    assert mix["active"] >= 3 and mix["expiring"] >= 2 and mix["expired"] == 1
    earned = [c for c in certs if c.approval_status is None]
    assert all(c.file_id is not None and audited("certification", c.id) for c in earned)
    # One issued by hand three months back: no PDF, not valid until QA signs it off.
    (backdated,) = [c for c in certs if c.approval_status is not None]
    assert certificate_status(backdated) == "pending_approval" and backdated.file_id is None
    assert backdated.issued_by.email == "thomas.huber@example.com" and backdated.reason
    # The marketplace calls as a service account, with a token of its own.
    service = db.session.scalar(select(User).where(User.kind == "service"))
    assert service.name == "Marketplace platform (service account)"
    assert count(ApiToken, ApiToken.user_id == service.id) == 1

    # The engine agrees: an expiring certificate is due soon, the expired one is expired.
    security = db.session.scalar(select(Course).where(Course.code == "SEC-101"))
    for email, expected in (
        ("ryan.walsh@example.com", "due_soon"),
        ("mohammed.hussain@example.com", "expired"),
        ("marco.bianchi@example.com", "compliant"),
    ):
        who = person(email)
        [row] = [
            r
            for r in statuses(clock.today(), Scope(user_ids=[who.id]))
            if db.session.get(CompetencyRequirement, r.requirement_id).course_id == security.id
        ]
        assert row.status == expected, email

    # Work waiting for a trainer.
    assert assignments.queue_size() >= 3

    # Notifications in the app and through the mail log: reminders, escalations, bookings.
    kinds = Counter(n.kind for n in db.session.scalars(select(Notification)))
    assert {"due_reminder", "overdue", "escalation", "session_registered"} <= set(kinds)
    assert count(Notification, Notification.email_state == "sent") >= len(kinds)
    mail_log = re.search(r"The emails it sent \(no SMTP_HOST\) are in (\S+)\.", seeded)
    assert "subject='Markus Steiner booked you on" in Path(mail_log.group(1)).read_text()

    # A full session with a waitlist, booked through the booking service.
    full = db.session.scalar(
        select(TrainingSession).where(TrainingSession.uid == "demo-gowning-full@cadre")
    )
    regs = db.session.scalars(
        select(SessionRegistration).where(SessionRegistration.session_id == full.id)
    ).all()
    assert sum(r.status == "registered" for r in regs) == full.capacity
    assert [r.waitlist_position for r in regs if r.status == "waitlisted"] == [1, 2, 3]
    assert all(audited("session_registration", r.id) for r in regs)

    # A pending waiver HR requested, and one QA approved (signed).
    pending = db.session.scalar(select(Waiver).where(Waiver.status == "pending"))
    approved = db.session.scalar(select(Waiver).where(Waiver.status == "approved"))
    assert pending.requested_by.has_role("hr") and audited("waiver", pending.id)
    assert approved.decided_by.has_role("qa") and approved.decided_by_id != approved.requested_by_id

    # A document version drafted and classified by two people, waiting for a third.
    draft = db.session.scalar(select(DocumentVersion).where(DocumentVersion.status == "draft"))
    assert draft.change_class == "significant"
    assert draft.created_by_id != draft.classified_by_id
    approvers = [
        u
        for u in db.session.scalars(select(User).where(User.active.is_(True)))
        if can(u, "document.approve") and u.id not in (draft.created_by_id, draft.classified_by_id)
    ]
    assert approvers

    # Running it again changes nothing.
    tables = [t for t in db.metadata.sorted_tables if t.name != "login_attempts"]
    before = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in tables}
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert "nothing to create" in again.output
    db.session.expire_all()
    after = {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in tables}
    assert after == before


NAV_LINK = re.compile(r'<a[^>]+href="(/[^"#?]*)"')


ROLES = (
    "admin@example.com",
    "oliver.bennett@example.com",  # manager
    "ryan.walsh@example.com",  # employee
    "thomas.huber@example.com",  # trainer
)


def test_every_page_a_role_reaches_from_home_renders_with_the_demo(seeded, client, auth):
    for email in ROLES:
        login = client.post(
            "/login",
            data={"email": email, "password": "cadre-demo", "csrf_token": csrf(client)},
        )
        assert login.status_code == 302, email
        home = client.get("/home")
        assert home.status_code == 200
        links = sorted(set(NAV_LINK.findall(home.get_data(as_text=True))) - {"/logout"})
        assert len(links) >= 5, email
        for path in links:
            page = client.get(path)
            assert page.status_code in (200, 302), (email, path, page.status_code)
        auth.logout()


def test_the_clean_room_sessions_are_for_basel_and_say_so_to_others(seeded, client, auth):
    gowning = db.session.scalar(
        select(TrainingSession)
        .where(TrainingSession.title == "Cleanroom gowning: hands-on practice")
        .order_by(TrainingSession.starts_at)
        .limit(1)
    )
    booked = db.session.scalar(
        select(func.count())
        .select_from(SessionRegistration)
        .where(SessionRegistration.session_id == gowning.id)
    )
    assert booked  # everyone the demo booked on it is from Basel
    auth.login(person("ryan.walsh@example.com"), "cadre-demo")  # a Leeds fulfilment associate
    body = client.get(f"/sessions/{gowning.id}").get_data(as_text=True)
    assert "You cannot book this session: it is for the Basel site" in body
    assert "Book a seat" not in body
