"""Demo activity: people using Cadre over the past year, made through the services.

Quiz attempts (failed and passed), completions with their certificates (valid, expiring, one
expired), assignments waiting in the grading queue, session bookings with a waitlist, and a
document version drafted and classified by two people that waits for a third to approve it.
Each step calls the service a person's click would call, with the business clock set to the
moment it happened, so statuses, audit rows, signatures and events are the engine's own.

Part of `flask seed-demo`, after its transaction (the services commit). Idempotent: a person
with an enrollment in the course, a session with bookings, a document with its draft are
skipped, so a second run changes nothing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.classroom import booking
from app.classroom.models import SessionRegistration, TrainingSession
from app.compliance import waivers
from app.compliance.models import CompetencyRequirement, Waiver
from app.demo.compliance import DEMO_MARK
from app.demo.documents import DEMO_EMPLOYEE
from app.extensions import db
from app.gxp import versions
from app.gxp.models import ControlledDocument, DocumentVersion
from app.learning import assignments, certificates, player, quizzes
from app.learning.enrollments import current_enrollment, enroll_user, evaluate_completion
from app.learning.models import Certification, Course, Module, QuizQuestion, Result
from app.people import service_accounts, tokens
from app.people.models import User
from app.platform import clock

# Every demo account's password (seed-demo prints it); signing re-asks it, as the pages do.
DEMO_PASSWORD = "cadre-demo"  # noqa: S105


@contextmanager
def business_time(moment: datetime) -> Iterator[None]:
    """Run the block with the business clock at `moment`, then put it back where it was."""
    drift = clock.now() - datetime.now(UTC)
    clock.pin(moment)
    try:
        yield
    finally:
        if abs(drift) < timedelta(seconds=1):
            clock.pin(None)
        else:
            clock.pin(datetime.now(UTC) + drift)


def _day(days_ago: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(clock.today() - timedelta(days=days_ago), time(hour, minute), UTC)


# --------------------------------------------------------------------------------------------
# Learning: enrol, read, attempt the quiz, hand in the assignment, get graded
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Learning:
    email: str
    course: str
    days_ago: int  # when the person started
    quiz: tuple[bool, ...]  # the outcome of each attempt, in order (at most 2: see quiz policy)
    assignment: str | None = None  # "graded" (passed, by `grader`), "waiting" (in the queue)
    grader: str | None = None
    enrolled_by: str | None = None  # a manager's email: assigned by them; else self-enrolled


HUBER, CLARKE = "thomas.huber@example.com", "hannah.clarke@example.com"

# Validity: SEC-101 and FIN-110 12 months, SAF-101 24, GMP-101 12, CS-101 none.
LEARNING = [
    # Information security, 12 months: two expiring within 30 days, one expired, some valid.
    Learning("ryan.walsh@example.com", "SEC-101", 340, (False, True)),
    Learning("lea.widmer@example.com", "SEC-101", 352, (True,)),
    Learning("mohammed.hussain@example.com", "SEC-101", 385, (True,)),
    Learning("marco.bianchi@example.com", "SEC-101", 60, (True,)),
    Learning("oliver.bennett@example.com", "SEC-101", 200, (False, True)),
    Learning("isla.campbell@example.com", "SEC-101", 4, (False,)),
    # Payments fraud controls, assigned by the finance manager.
    Learning(
        "lucy.morgan@example.com", "FIN-110", 150, (True,), enrolled_by="david.okafor@example.com"
    ),
    # Courses with a graded assignment: passed and certified, or waiting for a trainer.
    Learning("olivia.harris@example.com", "SAF-101", 300, (True,), "graded", CLARKE),
    Learning("jonas.frei@example.com", "GMP-101", 100, (False, True), "graded", HUBER),
    Learning("megan.price@example.com", "SAF-101", 10, (False, True), "waiting"),
    Learning("lea.widmer@example.com", "GMP-101", 8, (True,), "waiting"),
    Learning("laura.schmid@example.com", "GMP-101", 2, (True,), "waiting"),
    Learning("ryan.walsh@example.com", "CS-101", 3, (True,), "waiting"),
    Learning(
        "julia.zimmermann@example.com",
        "GMP-101",
        1,
        (False,),
        enrolled_by="elena.rossi@example.com",
    ),
]

ASSIGNMENT_ANSWER = (
    "I would stop, report the issue to my supervisor straight away and record what I saw, "
    "when and where, before anything is moved. Then I follow the SOP's steps and sign the log."
)


def _posted(question: dict[str, Any], correct: bool) -> Any:
    """What the quiz form would post for `question`: the right answer, or a wrong one."""
    kind, answer = question["kind"], question.get("answer")
    if answer is None:  # a snapshot without the key: the question bank has it
        answer = db.session.get(QuizQuestion, int(question["id"])).answer or {}
    if kind in ("single", "multiple"):
        order = question.get("order") or list(range(len(question.get("options") or [])))
        right = set(answer.get("correct") or [])
        if correct:
            return [str(order.index(i)) for i in sorted(right)]
        wrong = next(i for i in range(len(order)) if i not in right)
        return [str(order.index(wrong))]
    if kind == "true_false":
        return "true" if bool(answer.get("correct")) == correct else "false"
    if kind == "numeric":
        value = float(answer.get("value") or 0)
        return str(value if correct else value + 1000)
    accepted = answer.get("accepted") or [""]
    return accepted[0] if correct else "I am not sure"


def _attempt(enrollment_id: int, module: Module, user: User, passing: bool) -> Result:
    attempt = quizzes.start_attempt(enrollment_id, module.id, user)
    questions = attempt.questions or []
    # A failed attempt gets most of the quiz wrong; a pass gets every answer right.
    answers = {
        str(q["id"]): _posted(q, passing or (n == 0 and len(questions) > 3))
        for n, q in enumerate(questions)
    }
    return quizzes.submit_attempt(attempt.id, answers, user)


def _learn(spec: Learning, people: dict[str, User], courses: dict[str, Course], report) -> None:
    user, course = people.get(spec.email), courses.get(spec.course)
    if user is None or course is None or course.status != "published":
        return
    if current_enrollment(user.id, course.id) is not None:
        return  # seeded before, or the history already has this course for them
    start = _day(spec.days_ago, 8, 40 + user.id % 15)
    manager = people.get(spec.enrolled_by or "")
    with business_time(start):
        enrollment, _ = enroll_user(
            user.id,
            course.id,
            actor=manager or user,
            due_date=(start + timedelta(days=30)).date() if manager else None,
            source="manager" if manager else "self",
        )
    report.add("demo enrollments")
    moment = start + timedelta(minutes=5)
    for module in course.modules:
        if module.kind in player.SELF_COMPLETE_KINDS:
            moment += timedelta(minutes=module.estimated_minutes or 5)
            with business_time(moment):
                player.complete_module_by_learner(enrollment.id, module.id, user)
        elif module.kind == "quiz":
            for n, passing in enumerate(spec.quiz):
                # A retry comes the next day, after reading the feedback.
                moment += timedelta(days=1 if n else 0, minutes=15)
                with business_time(moment):
                    _attempt(enrollment.id, module, user, passing)
                report.add("quiz attempts")
            if not spec.quiz[-1]:
                return
        elif module.kind == "assignment" and spec.assignment:
            moment += timedelta(hours=2)
            with business_time(moment):
                result = assignments.submit_assignment(
                    enrollment.id, module.id, user, ASSIGNMENT_ANSWER
                )
            report.add("assignment submissions")
            if spec.assignment != "graded":
                return
            grader = people[spec.grader or HUBER]
            moment += timedelta(days=2, hours=1)
            criteria = assignments.rubric(module)
            with business_time(moment):
                assignments.grade_assignment(
                    result.id,
                    {str(i): c.points for i, c in enumerate(criteria)},
                    "Clear and complete: you report first and keep the evidence.",
                    grader,
                    password=DEMO_PASSWORD,
                )
        else:
            return  # a module this person has not reached (or a scenario): left open
    with business_time(moment + timedelta(minutes=1)):
        evaluate_completion(enrollment.id, user)


def seed_demo_learning(report) -> None:
    """Play the LEARNING specs through the learner's and trainer's services."""
    emails = {s.email for s in LEARNING} | {s.enrolled_by for s in LEARNING if s.enrolled_by}
    emails |= {s.grader for s in LEARNING if s.grader} | {HUBER}
    people = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    codes = {s.course for s in LEARNING}
    courses = {c.code: c for c in db.session.scalars(select(Course).where(Course.code.in_(codes)))}
    for spec in LEARNING:
        _learn(spec, people, courses, report)


# --------------------------------------------------------------------------------------------
# Bookings: who booked which demo session, and when
# --------------------------------------------------------------------------------------------


def seed_demo_bookings(report) -> None:
    """Book the demo sessions that have no bookings yet, from three days before each starts:
    a manager books their reports (who are told so), or each person books themselves."""
    from app.demo.sessions import SESSIONS, uid_for

    specs = {uid_for(spec.key): spec for spec in SESSIONS}
    sessions = db.session.scalars(select(TrainingSession).where(TrainingSession.uid.in_(specs)))
    booked = set(db.session.scalars(select(SessionRegistration.session_id).distinct()))
    emails = {e for spec in SESSIONS for e in spec.booked}
    people = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    for session in list(sessions):
        spec = specs[session.uid]
        if session.id in booked:
            continue
        opens = min(clock.now(), session.starts_at.replace(tzinfo=UTC)) - timedelta(days=3)
        for n, email in enumerate(spec.booked):
            learner = people.get(email)
            if learner is None:
                continue
            actor = learner
            if spec.booked_by_manager and learner.manager is not None:
                actor = learner.manager
            with business_time(opens + timedelta(minutes=17 * n)):
                booking.register(session.id, actor, {"user_id": learner.id})
            report.add("session bookings")


# --------------------------------------------------------------------------------------------
# A document version waiting for approval
# --------------------------------------------------------------------------------------------

GDP_V2_NOTE = "New: late entries are marked 'late entry' with the actual date (2.3)."


def seed_demo_pending_approval(report) -> None:
    """SOP-QA-001 version 2: drafted by one QA specialist, reviewed by the site quality head,
    waiting for the other QA specialist (the demo's printed QA login) to approve it: three
    people, as segregation of duties asks."""
    from app.demo.documents import GDP_V1

    doc = db.session.scalar(
        select(ControlledDocument).where(ControlledDocument.number == "SOP-QA-001")
    )
    if doc is None:
        return
    exists = db.session.scalar(
        select(func.count())
        .select_from(DocumentVersion)
        .where(DocumentVersion.document_id == doc.id, DocumentVersion.version == "2")
    )
    if exists:
        return
    people = {
        u.email: u
        for u in db.session.scalars(
            select(User).where(
                User.email.in_(("sophie.brunner@example.com", "katrin.vogel@example.com"))
            )
        )
    }
    author, reviewer = (
        people.get("sophie.brunner@example.com"),
        people.get("katrin.vogel@example.com"),
    )
    if author is None or reviewer is None:
        return
    text = GDP_V1.replace(
        "2.2 Never use correction fluid; never back-date.",
        "2.2 Never use correction fluid; never back-date.\n"
        "2.3 An entry made later than the activity is marked 'late entry' with the actual date.",
    )
    upload = FileStorage(
        stream=io.BytesIO(text.encode()), filename="SOP-QA-001_v2.txt", content_type="text/plain"
    )
    with business_time(_day(3, 14, 10)):
        version = versions.add_version(doc.id, {"version": "2"}, upload, author)
    with business_time(_day(1, 10, 45)):
        versions.classify_version(
            doc.id,
            version.id,
            {"change_class": "significant", "change_note": GDP_V2_NOTE},
            DEMO_PASSWORD,
            reviewer,
        )
    report.add("document versions awaiting approval")


# --------------------------------------------------------------------------------------------
# Waivers: HR requests, QA decides (one approved a month ago, one waiting)
# --------------------------------------------------------------------------------------------

HR, QA = "anna.keller@example.com", "lukas.meier@example.com"
APPROVED_REASON = "Equivalent training completed at previous employer (certificate on file)."
PENDING_REASON = "On long-term leave until spring; training to follow on return."


def seed_demo_waivers(report) -> None:
    """Two waivers of job-role requirements (the 4th and the 18th person-requirement pair):
    one HR requested and QA approved a month ago, one HR requested yesterday for QA to decide."""
    if db.session.scalar(select(Waiver.id).limit(1)) is not None:
        return
    people = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_((HR, QA))))}
    hr, qa = people.get(HR), people.get(QA)
    rows = db.session.execute(
        select(User.id, CompetencyRequirement.id)
        .join(CompetencyRequirement, CompetencyRequirement.job_role_id == User.job_role_id)
        .where(CompetencyRequirement.notes == DEMO_MARK, User.active.is_(True))
        .order_by(User.id, CompetencyRequirement.id)
        .limit(40)
    ).all()
    if len(rows) < 2 or hr is None or qa is None:
        return
    approved, pending = rows[3 % len(rows)], rows[17 % len(rows)]
    today = clock.today()
    with business_time(_day(31, 11, 5)):
        waiver = waivers.request_waiver(
            {
                "user_id": approved[0],
                "requirement_id": approved[1],
                "reason": APPROVED_REASON,
                "starts_on": (today - timedelta(days=30)).isoformat(),
                "ends_on": (today + timedelta(days=150)).isoformat(),
            },
            hr,
        )
    with business_time(_day(29, 15, 20)):
        waivers.decide_waiver(
            waiver.id,
            "approve",
            "Certificate checked against the course content.",
            qa,
            password=DEMO_PASSWORD,
        )
    with business_time(_day(1, 16, 40)):
        waivers.request_waiver(
            {
                "user_id": pending[0],
                "requirement_id": pending[1],
                "reason": PENDING_REASON,
                "starts_on": today.isoformat(),
                "ends_on": (today + timedelta(days=120)).isoformat(),
            },
            hr,
        )
    report.add("waivers", 2)


# --------------------------------------------------------------------------------------------
# Trust: a back-dated certificate waiting for QA, a service account for the marketplace
# --------------------------------------------------------------------------------------------

BACKDATED_REASON = (
    "Attended the GMP-101 classroom course at the Leeds site in September; the signed paper"
    " attendance sheet turned up in the records review."
)


def seed_demo_backdated_certificate(report) -> None:
    """A trainer issues a certificate by hand, dated three months back: beyond the back-dating
    window, so it waits for QA (the printed QA login) to approve it with a signature."""
    if db.session.scalar(select(Certification.id).where(Certification.reason == BACKDATED_REASON)):
        return
    people = {
        u.email: u
        for u in db.session.scalars(select(User).where(User.email.in_((HUBER, DEMO_EMPLOYEE))))
    }
    course = db.session.scalar(select(Course).where(Course.code == "GMP-101"))
    trainer, learner = people.get(HUBER), people.get(DEMO_EMPLOYEE)
    if course is None or trainer is None or learner is None:
        return
    with business_time(_day(2, 15, 30)):
        certificates.issue_certificate_manual(
            learner.id,
            course.id,
            trainer,
            BACKDATED_REASON,
            issued_at=_day(90, 12, 0),
            password=DEMO_PASSWORD,
        )
    report.add("certificates waiting for QA approval")


def seed_demo_service_account(report) -> None:
    """The marketplace platform calls Cadre as a service account with its own token."""
    if db.session.scalar(select(User.id).where(User.kind == "service").limit(1)) is not None:
        return
    admin = db.session.scalar(select(User).where(User.email == "admin@example.com"))
    if admin is None:
        return
    with business_time(_day(20, 10, 0)):
        account = service_accounts.create_service_account("Marketplace platform", ["hr"], admin)
        tokens.create_api_token(account.id, "Seller onboarding sync", ["write"], admin, 365)
    report.add("service accounts")


# --------------------------------------------------------------------------------------------


def seed_demo_activity(report) -> None:
    """Everything above, in the order it would have happened."""
    seed_demo_learning(report)
    seed_demo_bookings(report)
    seed_demo_waivers(report)
    seed_demo_pending_approval(report)
    seed_demo_backdated_certificate(report)
    seed_demo_service_account(report)


def send_demo_reminders(report) -> None:
    """Today's sweep, as the scheduler would run it: reminders, overdue notices, escalations
    and their emails (the mail log without SMTP)."""
    from app.platform.jobs import run_job

    out = run_job("notifications.daily_sweep")
    if out.get("created"):
        report.add("reminders", out["created"])
