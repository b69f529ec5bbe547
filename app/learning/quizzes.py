"""Quiz attempts under the quiz's policy: start (limit, wait, drawn pool), submit (deadline),
idempotent auto-grading, feedback that reveals answers only when the policy allows, and the
trainer's view of attempts per learner with extra attempts they grant."""

from __future__ import annotations

import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.learning import enrollments
from app.learning.models import Enrollment, Module, QuizAttemptGrant, QuizQuestion, Result
from app.learning.modules import QuizPolicy, enrollment_module, get_module, pass_mark, quiz_policy
from app.people.models import User
from app.platform import clock
from app.platform.audit import record_audit
from app.platform.errors import Conflict, Forbidden, Invalid, NotFound
from app.platform.jobs import enqueue
from app.platform.pagination import Page
from app.platform.timefmt import zone

# Answers posted this long after the deadline still count (network, slow clicks).
GRACE = timedelta(seconds=30)
CHOICE_KINDS = ("single", "multiple")
RESULT_AUDIT = ["attempt_no", "status", "score", "max_score", "passed"]


@dataclass
class QuestionView:
    """What the attempt form shows of one question: never the answer or the explanation."""

    id: int
    kind: str
    prompt: str
    points: int
    choices: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class QuizState:
    """A learner's attempts at one quiz module under its policy: what they may do next."""

    module: Module
    attempts: list[Result]
    policy: QuizPolicy
    pass_mark: int
    granted: int = 0  # extra attempts a trainer allowed

    @property
    def attempt_limit(self) -> int | None:
        """Attempts allowed in all (the quiz's limit plus grants); None = unlimited."""
        if self.policy.attempt_limit is None:
            return None
        return self.policy.attempt_limit + self.granted

    @property
    def open_attempt(self) -> Result | None:
        return next((r for r in self.attempts if r.status == "in_progress"), None)

    @property
    def latest(self) -> Result | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def passed(self) -> bool:
        return any(r.passed for r in self.attempts)

    @property
    def attempts_left(self) -> int | None:
        if self.attempt_limit is None:
            return None
        return max(0, self.attempt_limit - len(self.attempts))

    @property
    def exhausted(self) -> bool:
        """Every attempt used without a pass: only a trainer's grant opens the quiz again."""
        return not self.passed and self.attempts_left == 0 and self.open_attempt is None

    @property
    def next_attempt_at(self) -> datetime | None:
        """When the wait after the last attempt ends (None: no wait applies)."""
        last = self.latest
        wait = self.policy.retry_wait_minutes
        if not wait or last is None or last.status != "graded" or self.passed:
            return None
        ended = last.submitted_at or last.graded_at or last.started_at
        return ended + timedelta(minutes=wait)

    def waiting(self, now: datetime | None = None) -> bool:
        at = self.next_attempt_at
        return at is not None and (now or clock.now()) < at

    @property
    def can_start(self) -> bool:
        busy = any(r.status in ("in_progress", "submitted") for r in self.attempts)
        return not busy and not self.passed and self.attempts_left != 0 and not self.waiting()

    @property
    def reveals_answers(self) -> bool:
        """Whether graded attempts may show the correct answers now, by the quiz's policy."""
        rule = self.policy.reveal_answers
        if rule == "never":
            return False
        if rule == "after_last_attempt":
            return self.passed or self.attempts_left == 0
        return self.passed


def _own_enrollment(enrollment_id: int, user: User):
    enrollment = enrollments.get_enrollment(enrollment_id)
    if enrollment.user_id != user.id:
        raise Forbidden("Only the enrolled learner may take this quiz.")
    return enrollment


def _attempts(enrollment_id: int, module_id: int) -> list[Result]:
    return list(
        db.session.scalars(
            select(Result)
            .where(
                Result.enrollment_id == enrollment_id,
                Result.module_id == module_id,
                Result.kind == "quiz",
            )
            .order_by(Result.attempt_no)
        )
    )


def _granted(enrollment_id: int, module_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(QuizAttemptGrant)
        .where(
            QuizAttemptGrant.enrollment_id == enrollment_id,
            QuizAttemptGrant.module_id == module_id,
        )
    )


def quiz_state(enrollment_id: int, module: Module) -> QuizState:
    """Return the attempts so far and what the learner may do next."""
    return QuizState(
        module=module,
        attempts=_attempts(enrollment_id, module.id),
        policy=quiz_policy(module),
        pass_mark=pass_mark(module),
        granted=_granted(enrollment_id, module.id),
    )


def format_local(moment: datetime, user: User | None) -> str:
    """A moment as the learner reads it: their zone, named; the date too unless it is today."""
    local = moment.astimezone(zone(getattr(user, "timezone", None)))
    today = clock.now().astimezone(local.tzinfo).date()
    text = local.strftime("%H:%M %Z")
    return text if local.date() == today else f"{local:%Y-%m-%d} {text}"


def question_snapshot(question: QuizQuestion, rng: random.Random | None, shuffle: bool = False):
    """The question as this attempt shows it, frozen: options order, answer, version."""
    order = list(range(len(question.options or [])))
    if shuffle and rng is not None and question.kind in CHOICE_KINDS:
        rng.shuffle(order)
    return {
        "id": question.id,
        "version": question.version,
        "kind": question.kind,
        "prompt": question.prompt,
        "options": list(question.options or []),
        "order": order,
        "answer": dict(question.answer or {}),
        "points": question.points,
        "explanation": question.explanation or "",
        "topic": question.topic,
    }


def attempt_rng(enrollment_id: int, module_id: int, attempt_no: int) -> random.Random:
    """The attempt's own random source: seeded by the app's secret and the attempt, so a draw
    can be reproduced (and tested) but not predicted by a learner."""
    secret = current_app.config.get("SECRET_KEY") or ""
    return random.Random(f"{secret}:quiz:{enrollment_id}:{module_id}:{attempt_no}")


def draw_questions(
    questions: list[QuizQuestion],
    policy: QuizPolicy,
    rng: random.Random,
    seen: Counter | None = None,
) -> list[QuizQuestion]:
    """Pick the questions of one attempt.

    With a pool size, draw that many (from each topic with `pool_per_topic`), preferring the
    questions this learner was shown least often, so a retry is a different test wherever the
    quiz has enough questions. Shuffle the result, or keep the authored order.
    """
    seen = seen or Counter()
    groups: dict[str | None, list[QuizQuestion]] = {}
    for q in questions:
        groups.setdefault(q.topic if policy.pool_per_topic else None, []).append(q)
    drawn: list[QuizQuestion] = []
    for group in groups.values():
        if policy.pool_size and policy.pool_size < len(group):
            ranked = sorted(group, key=lambda q: (seen[q.id], rng.random()))
            group = ranked[: policy.pool_size]
        drawn.extend(group)
    drawn.sort(key=lambda q: (q.position, q.id))
    if policy.shuffle:
        rng.shuffle(drawn)
    return drawn


def _seen(attempts: list[Result]) -> Counter:
    """How often each question was shown in the learner's earlier attempts."""
    return Counter(q["id"] for r in attempts for q in r.questions or [])


def _draw(module: Module, policy: QuizPolicy, rng: random.Random, attempts: list[Result]):
    questions = list(
        db.session.scalars(
            select(QuizQuestion)
            .where(QuizQuestion.module_id == module.id)
            .order_by(QuizQuestion.position, QuizQuestion.id)
        )
    )
    if not questions:
        raise Conflict("This quiz has no questions yet.")
    drawn = draw_questions(questions, policy, rng, _seen(attempts))
    return [question_snapshot(q, rng, policy.shuffle) for q in drawn]


def start_attempt(enrollment_id: int, module_id: int, user: User) -> Result:
    """Start (or resume) the learner's attempt: draw the pool, shuffle, set the deadline.

    An open attempt is returned as it is. Raises NotFound, Forbidden (not the learner),
    Conflict (attempt limit reached, wait not over, already passed, awaiting grading, no
    questions, closed).
    """
    enrollment = _own_enrollment(enrollment_id, user)
    module = enrollment_module(enrollment, module_id, "quiz")
    if enrollment.status in ("waived", "expired"):
        raise Conflict(f"This enrollment is {enrollment.status}; the quiz is closed.")
    state = quiz_state(enrollment.id, module)
    if state.open_attempt is not None:
        return state.open_attempt
    if state.passed:
        raise Conflict("You have already passed this quiz.")
    if any(r.status == "submitted" for r in state.attempts):
        raise Conflict("Your last attempt is still being graded.")
    if state.attempts_left == 0:
        raise Conflict(
            f"You have used all {state.attempt_limit} attempts at this quiz. "
            "Your trainer can allow another attempt."
        )
    now = clock.now()
    if state.waiting(now):
        raise Conflict(f"You can try again at {format_local(state.next_attempt_at, user)}.")
    policy = state.policy
    limit = policy.time_limit_minutes
    attempt_no = (
        db.session.scalar(
            select(func.max(Result.attempt_no)).where(
                Result.enrollment_id == enrollment.id, Result.module_id == module.id
            )
        )
        or 0
    ) + 1
    result = Result(
        enrollment_id=enrollment.id,
        module_id=module.id,
        user_id=user.id,
        kind="quiz",
        attempt_no=attempt_no,
        status="in_progress",
        questions=_draw(
            module, policy, attempt_rng(enrollment.id, module.id, attempt_no), state.attempts
        ),
        answers={},
        feedback={},
        started_at=now,
        deadline_at=now + timedelta(minutes=int(limit)) if limit else None,
    )
    db.session.add(result)
    enrollments.mark_started(enrollment, user, now)
    try:
        db.session.flush()
    except IntegrityError as exc:
        # A double click raced us to this attempt number; the other request's attempt stands.
        db.session.rollback()
        raise Conflict("An attempt was started at the same moment; reload the page.") from exc
    record_audit(
        "create",
        "result",
        result.id,
        after={"kind": "quiz", "module_id": module.id, "attempt_no": attempt_no},
        actor=user,
    )
    db.session.commit()
    return result


def get_attempt(result_id: int, user: User) -> Result:
    """Return the learner's own quiz attempt. Raises NotFound, Forbidden."""
    result = db.session.get(Result, result_id)
    if result is None or result.kind != "quiz":
        raise NotFound(f"Attempt {result_id} does not exist.")
    if result.user_id != user.id:
        raise Forbidden("This is someone else's attempt.")
    return result


def question_views(result: Result) -> list[QuestionView]:
    """The attempt's questions as shown to the learner: prompts and choices only."""
    views = []
    for q in result.questions or []:
        choices: list[tuple[int, str]] = []
        if q["kind"] in CHOICE_KINDS:
            choices = [(shown, q["options"][orig]) for shown, orig in enumerate(q["order"])]
        elif q["kind"] == "true_false":
            choices = [(0, "True"), (1, "False")]
        views.append(QuestionView(q["id"], q["kind"], q["prompt"], q["points"], choices))
    return views


def is_overdue(result: Result, now=None) -> bool:
    """Tell whether the attempt's time (plus grace) is up."""
    if result.deadline_at is None:
        return False
    return (now or clock.now()) > result.deadline_at + GRACE


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _normalise(q: dict[str, Any], raw: Any, errors: dict[str, list[str]]) -> Any:
    """Turn one posted answer into what is stored (option indexes of the original order)."""
    key = f"q-{q['id']}"
    values = [v for v in _as_list(raw) if not (isinstance(v, str) and not v.strip())]
    if not values:
        return None
    kind = q["kind"]
    if kind in CHOICE_KINDS or kind == "true_false":
        if kind == "true_false":
            mapping = {"true": True, "false": False, "0": True, "1": False}
            picked = [mapping.get(str(v).strip().lower()) for v in values]
            if len(picked) != 1 or picked[0] is None:
                errors[key] = ["Choose true or false."]
                return None
            return picked[0]
        shown = []
        for v in values:
            try:
                index = int(v)
            except (TypeError, ValueError):
                index = -1
            if not 0 <= index < len(q["order"]):
                errors[key] = ["Choose one of the listed options."]
                return None
            shown.append(index)
        if kind == "single" and len(set(shown)) != 1:
            errors[key] = ["Choose one option."]
            return None
        return sorted({q["order"][i] for i in shown})
    if len(values) != 1:
        errors[key] = ["Give one answer."]
        return None
    if kind == "numeric":
        try:
            number = float(str(values[0]).strip().replace(",", "."))
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            errors[key] = ["Enter a number."]
            return None
        return number
    text = str(values[0]).strip()
    if len(text) > 500:
        errors[key] = ["At most 500 characters."]
        return None
    return text


def validate_answers(result: Result, answers: dict) -> dict[str, Any]:
    """Check posted answers against the attempt's own questions and normalise them.

    Raises Invalid (answers to questions outside this attempt, bad values per question).
    """
    if not isinstance(answers, dict):
        raise Invalid("Answers must be an object keyed by question id.")
    by_id = {str(q["id"]): q for q in result.questions or []}
    foreign = sorted(str(k) for k in answers if str(k) not in by_id)
    if foreign:
        raise Invalid(
            "Some answers are for questions that are not part of this attempt.",
            {"answers": [f"Question {k} is not part of this attempt." for k in foreign]},
        )
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key, raw in answers.items():
        value = _normalise(by_id[str(key)], raw, errors)
        if value is not None:
            out[str(key)] = value
    if errors:
        raise Invalid("Some answers are not valid.", errors)
    return out


def submit_attempt(result_id: int, answers: dict, user: User) -> Result:
    """Store the answers, mark the attempt submitted and enqueue its grading.

    Past the deadline (plus 30 s grace) the posted answers are refused and the attempt is
    graded as it stood (nothing saved, so unanswered); the feedback marks it late.
    Raises NotFound, Forbidden, Invalid (foreign question ids, bad values), Conflict (submitted).
    """
    result = get_attempt(result_id, user)
    if result.status != "in_progress":
        raise Conflict("This attempt has already been submitted.")
    cleaned = validate_answers(result, answers)
    now = clock.now()
    late = is_overdue(result, now)
    claimed = db.session.execute(
        update(Result)
        .where(Result.id == result.id, Result.status == "in_progress")
        .values(
            status="submitted",
            answers={} if late else cleaned,
            feedback={"late": True} if late else {},
            submitted_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise Conflict("This attempt has already been submitted.")
    record_audit(
        "update",
        "result",
        result.id,
        before={"status": "in_progress"},
        after={"status": "submitted", "answered": 0 if late else len(cleaned), "late": late},
        actor=user,
    )
    db.session.commit()
    db.session.expire(result)
    enqueue(
        "grading.grade_quiz_attempt",
        result.id,
        queue="grading",
        job_id=f"grade-result-{result.id}",
    )
    return result


@dataclass
class FeedbackRow:
    """One graded question as the learner sees it after grading."""

    prompt: str
    points: int
    awarded: int
    correct: bool
    given: str
    expected: str
    explanation: str


def _describe(q: dict[str, Any], value: Any, *, expected: bool = False) -> str:
    kind, answer = q["kind"], q.get("answer") or {}
    if expected:
        if kind in CHOICE_KINDS:
            value = answer.get("correct") or []
        elif kind == "true_false":
            value = bool(answer.get("correct"))
        elif kind == "numeric":
            value, tol = answer.get("value"), answer.get("tolerance") or 0
            if value is None:
                return ""
            return f"{value:g}" + (f" (± {tol:g})" if tol else "")
        else:
            return " / ".join(answer.get("accepted") or [])
    if value is None or value == []:
        return "(no answer)"
    if kind in CHOICE_KINDS:
        options = q.get("options") or []
        return ", ".join(options[i] for i in _as_list(value) if 0 <= i < len(options))
    if kind == "true_false":
        return "True" if value else "False"
    if kind == "numeric":
        return f"{value:g}"
    return str(value)


def feedback_rows(result: Result, reveal: bool = False) -> list[FeedbackRow]:
    """Per-question feedback of a graded attempt: the learner's answer and whether it was right.

    The correct answer, and the explanation of a wrong answer (which usually gives it away),
    are there only with `reveal` (the quiz's policy allows it, or a trainer reads).
    """
    if result.status != "graded":
        return []
    answers = result.answers or {}
    per = (result.feedback or {}).get("questions") or {}
    rows = []
    for q in result.questions or []:
        mark = per.get(str(q["id"]), {})
        correct = bool(mark.get("correct"))
        rows.append(
            FeedbackRow(
                prompt=q["prompt"],
                points=q["points"],
                awarded=mark.get("awarded", 0),
                correct=correct,
                given=_describe(q, answers.get(str(q["id"]))),
                expected=_describe(q, None, expected=True) if reveal else "",
                explanation=(q.get("explanation") or "") if reveal or correct else "",
            )
        )
    return rows


# --- grading ------------------------------------------------------------------------------


def score_question(q: dict[str, Any], given: Any) -> bool:
    """Tell whether `given` (stored form) answers question snapshot `q` correctly."""
    kind, answer = q["kind"], q.get("answer") or {}
    if given is None:
        return False
    if kind == "single":
        return sorted(_as_list(given)) == sorted(answer.get("correct") or [])[:1]
    if kind == "multiple":
        return set(_as_list(given)) == set(answer.get("correct") or [])
    if kind == "true_false":
        return isinstance(given, bool) and given is bool(answer.get("correct"))
    if kind == "numeric":
        value, tolerance = answer.get("value"), answer.get("tolerance") or 0
        if value is None or isinstance(given, bool) or not isinstance(given, (int, float)):
            return False
        # A hair of slack so 0.3 +/- 0.1 accepts 0.4 despite binary floating point.
        slack = 1e-9 * max(1.0, abs(value))
        return abs(float(given) - float(value)) <= float(tolerance) + slack
    if kind == "short_text":

        def norm(text: str) -> str:
            squashed = " ".join(str(text).split())
            return squashed if answer.get("case_sensitive") else squashed.casefold()

        return norm(given) in {norm(a) for a in answer.get("accepted") or []}
    return False


def compute_grade(result: Result, mark: int) -> dict[str, Any]:
    """Score every question of an attempt (points-weighted) and build the feedback."""
    answers = result.answers or {}
    per_question: dict[str, dict[str, Any]] = {}
    score = max_score = 0
    for q in result.questions or []:
        correct = score_question(q, answers.get(str(q["id"])))
        awarded = q["points"] if correct else 0
        score += awarded
        max_score += q["points"]
        per_question[str(q["id"])] = {"correct": correct, "awarded": awarded}
    percent = round(score * 100.0 / max_score, 1) if max_score else 0.0
    feedback = dict(result.feedback or {})
    feedback.update({"questions": per_question, "percent": percent, "pass_mark": mark})
    return {
        "score": float(score),
        "max_score": float(max_score),
        "passed": percent >= mark,
        "feedback": feedback,
    }


def grade_attempt(result_id: int, hold_seconds: float = 0.0) -> bool:
    """Grade a submitted attempt exactly once; True if this call graded it.

    The row is claimed with UPDATE ... WHERE status='submitted', so a job delivered twice (or two
    workers at once) stores one grade. A pass completes the module and re-checks the enrollment.
    `hold_seconds` (tests only) keeps the claim uncommitted for a while, to kill a worker mid-way.
    Raises NotFound.
    """
    result = db.session.get(Result, result_id)
    if result is None:
        raise NotFound(f"Result {result_id} does not exist.")
    if result.status != "submitted" or result.kind != "quiz":
        return False
    module = result.module
    grade = compute_grade(result, pass_mark(module))
    now = clock.now()
    claimed = db.session.execute(
        update(Result)
        .where(Result.id == result.id, Result.status == "submitted")
        .values(status="graded", graded_at=now, **grade)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return False
    if grade["passed"]:
        enrollments.complete_module(result.enrollment_id, result.module_id)
    record_audit(
        "update",
        "result",
        result.id,
        before={"status": "submitted"},
        after={
            "status": "graded",
            "score": grade["score"],
            "max_score": grade["max_score"],
            "passed": grade["passed"],
        },
        reason="auto-graded",
    )
    if hold_seconds > 0:
        time.sleep(hold_seconds)
    db.session.commit()
    db.session.expire(result)
    if grade["passed"]:
        enrollments.evaluate_completion(result.enrollment_id)
    return True


# --- trainers: attempts per learner, extra attempts --------------------------------------


def get_quiz_module(module_id: int) -> Module:
    """Return a quiz module. Raises NotFound (no such module, or not a quiz)."""
    module = get_module(module_id)
    if module.kind != "quiz":
        raise NotFound(f"Module {module_id} is not a quiz.")
    return module


@dataclass
class LearnerAttempts:
    """One learner's attempts at one quiz, for the trainer's list."""

    enrollment_id: int
    user_id: int
    name: str
    email: str
    attempts: list[Result]
    allowed: int | None  # None = unlimited
    granted: int

    @property
    def used(self) -> int:
        return len(self.attempts)

    @property
    def passed(self) -> bool:
        return any(r.passed for r in self.attempts)

    @property
    def best_percent(self) -> float | None:
        graded = [r.score * 100.0 / r.max_score for r in self.attempts if r.max_score]
        return round(max(graded), 1) if graded else None

    @property
    def last_at(self) -> datetime | None:
        times = [r.submitted_at or r.started_at for r in self.attempts]
        return max(times) if times else None

    @property
    def exhausted(self) -> bool:
        return (
            not self.passed
            and self.allowed is not None
            and self.used >= self.allowed
            and all(r.status == "graded" for r in self.attempts)
        )


def quiz_attempts_by_learner(module: Module, page: int, per_page: int) -> Page:
    """One page of the learners who attempted a quiz, by name, with their attempts.

    Four queries whatever the page size: count, the page's learners, their attempts, their
    grants.
    """
    policy = quiz_policy(module)
    attempted = (
        select(Result.enrollment_id)
        .where(Result.module_id == module.id, Result.kind == "quiz")
        .distinct()
        .subquery()
    )
    total = db.session.scalar(select(func.count()).select_from(attempted)) or 0
    rows = db.session.execute(
        select(Enrollment.id, User.id, User.name, User.email)
        .join(attempted, attempted.c.enrollment_id == Enrollment.id)
        .join(User, User.id == Enrollment.user_id)
        .order_by(User.name, Enrollment.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    ids = [r[0] for r in rows]
    by_enrollment: dict[int, list[Result]] = {i: [] for i in ids}
    grants: dict[int, int] = {}
    if ids:
        for result in db.session.scalars(
            select(Result)
            .where(
                Result.module_id == module.id,
                Result.kind == "quiz",
                Result.enrollment_id.in_(ids),
            )
            .order_by(Result.attempt_no)
        ):
            by_enrollment[result.enrollment_id].append(result)
        grants = dict(
            db.session.execute(
                select(QuizAttemptGrant.enrollment_id, func.count())
                .where(
                    QuizAttemptGrant.module_id == module.id,
                    QuizAttemptGrant.enrollment_id.in_(ids),
                )
                .group_by(QuizAttemptGrant.enrollment_id)
            ).all()
        )
    items = []
    for enrollment_id, user_id, name, email in rows:
        granted = grants.get(enrollment_id, 0)
        allowed = None if policy.attempt_limit is None else policy.attempt_limit + granted
        items.append(
            LearnerAttempts(
                enrollment_id, user_id, name, email, by_enrollment[enrollment_id], allowed, granted
            )
        )
    return Page(items=items, total=total, page=page, per_page=per_page)


def get_attempt_for_trainer(result_id: int) -> Result:
    """Return any quiz attempt (trainers read every learner's answers). Raises NotFound."""
    result = db.session.get(Result, result_id)
    if result is None or result.kind != "quiz":
        raise NotFound(f"Attempt {result_id} does not exist.")
    return result


def grant_attempt(module_id: int, enrollment_id: int, actor: User, reason: str = "") -> int:
    """Allow a learner who used every attempt at a quiz one more; return attempts now allowed.

    Raises NotFound, Invalid (reason too long), Conflict (unlimited quiz, passed, attempts
    left, or an attempt still open or being graded).
    """
    module = get_quiz_module(module_id)
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None or enrollment.course_id != module.course_id:
        raise NotFound("This learner is not enrolled in the quiz's course.")
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise Invalid("The reason is too long.", {"reason": ["At most 500 characters."]})
    state = quiz_state(enrollment.id, module)
    if state.attempt_limit is None:
        raise Conflict("This quiz allows unlimited attempts.")
    if state.passed:
        raise Conflict("This learner has passed the quiz.")
    if not state.exhausted or any(r.status != "graded" for r in state.attempts):
        raise Conflict("This learner still has an attempt left or being graded.")
    grant = QuizAttemptGrant(
        enrollment_id=enrollment.id,
        module_id=module.id,
        granted_by_id=actor.id,
        granted_at=clock.now(),
        reason=reason,
    )
    db.session.add(grant)
    db.session.flush()
    allowed = state.attempt_limit + 1
    record_audit(
        "create",
        "quiz_attempt_grant",
        grant.id,
        after={
            "enrollment_id": enrollment.id,
            "module_id": module.id,
            "user_id": enrollment.user_id,
            "attempts_used": len(state.attempts),
            "attempts_allowed": allowed,
        },
        reason=reason or "extra quiz attempt granted",
        actor=actor,
    )
    db.session.commit()
    return allowed
