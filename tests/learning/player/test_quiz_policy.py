"""The quiz policy: safe defaults, when answers are revealed, attempt limits, the wait between
attempts, pools drawn per attempt, and a trainer's extra attempt."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.learning import modules, quizzes
from app.learning.models import Module, QuizAttemptGrant, Result
from app.platform.audit import AuditLog
from app.platform.errors import Conflict, Invalid
from tests.helpers.jobs import run_queued_jobs
from tests.learning.factories import QuizQuestionFactory
from tests.learning.player.conftest import (
    add_module,
    add_quiz,
    correct_answers,
    module_url,
)

TF = {"kind": "true_false", "options": ["True", "False"], "answer": {"correct": True}}


def _attempt(enrollment, quiz, learner, right: bool) -> Result:
    """Start, answer (all right or nothing) and grade one attempt."""
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    answers = {k[2:]: v for k, v in correct_answers(result).items()} if right else {}
    quizzes.submit_attempt(result.id, answers, learner)
    run_queued_jobs(current_app._get_current_object())
    db.session.expire_all()
    return db.session.get(Result, result.id)


def _tf_quiz(course, n: int = 1, **settings) -> Module:
    questions = [
        {**TF, "prompt": f"Statement {i}", "explanation": f"EXPLAIN-{i}"} for i in range(n)
    ]
    return add_quiz(course, questions=questions, **settings)


# --- defaults -------------------------------------------------------------------------------


def test_a_new_quiz_gets_the_safe_defaults(app, course, trainer):
    quiz = modules.add_module(course.id, {"kind": "quiz", "title": "Check"}, trainer)
    policy = modules.quiz_policy(quiz)
    assert quiz.settings["attempt_limit"] == 3
    assert quiz.settings["reveal_answers"] == "after_pass"
    assert (policy.attempt_limit, policy.reveal_answers, policy.retry_wait_minutes) == (
        3,
        "after_pass",
        0,
    )


@pytest.mark.parametrize("settings", [{}, {"attempt_limit": None}, {"attempt_limit": ""}])
def test_an_existing_quiz_without_a_limit_allows_three_attempts(
    app, course, enrollment, learner, settings
):
    quiz = _tf_quiz(course, **settings)
    for _ in range(3):
        assert _attempt(enrollment, quiz, learner, right=False).passed is False

    with pytest.raises(Conflict, match="You have used all 3 attempts"):
        quizzes.start_attempt(enrollment.id, quiz.id, learner)
    assert len(quizzes.quiz_state(enrollment.id, quiz).attempts) == 3


def test_unlimited_attempts_must_be_chosen_explicitly(app, course, enrollment, learner):
    quiz = _tf_quiz(course, attempt_limit=0)
    for _ in range(4):
        _attempt(enrollment, quiz, learner, right=False)
    state = quizzes.quiz_state(enrollment.id, quiz)
    assert state.attempt_limit is None and state.can_start


# --- reveal rules ---------------------------------------------------------------------------


def _page(client, enrollment, quiz) -> str:
    return client.get(module_url(enrollment, quiz)).get_data(as_text=True)


def test_after_pass_reveals_once_passed(client, as_learner, course, enrollment, learner):
    quiz = add_quiz(course)
    add_module(course, "text")
    _attempt(enrollment, quiz, learner, right=False)
    failed = _page(client, enrollment, quiz)
    assert "Correct answer" not in failed and "21.75" not in failed

    _attempt(enrollment, quiz, learner, right=True)
    page = _page(client, enrollment, quiz)
    assert "Attempt 2: passed" in page and "EXPLAIN-NUMERIC" in page
    state = quizzes.quiz_state(enrollment.id, quiz)
    first = state.attempts[0]
    rows = quizzes.feedback_rows(first, state.reveals_answers)
    assert "21.75 (± 0.25)" in [r.expected for r in rows]  # the failed attempt, now passed


def test_never_keeps_the_answers_even_after_passing(
    client, as_learner, course, enrollment, learner
):
    quiz = add_quiz(course, reveal_answers="never")
    add_module(course, "text")
    _attempt(enrollment, quiz, learner, right=False)
    assert "The correct answers" not in _page(client, enrollment, quiz)
    assert "This quiz does not show the correct answers." in _page(client, enrollment, quiz)
    _attempt(enrollment, quiz, learner, right=True)

    page = _page(client, enrollment, quiz)
    assert "Attempt 2: passed" in page
    assert "Correct answer" not in page
    state = quizzes.quiz_state(enrollment.id, quiz)
    assert state.reveals_answers is False
    assert all(r.expected == "" for r in quizzes.feedback_rows(state.attempts[0], False))


def test_after_the_last_attempt_reveals_only_when_none_is_left(
    client, as_learner, course, enrollment, learner
):
    quiz = add_quiz(course, reveal_answers="after_last_attempt", attempt_limit=2)
    _attempt(enrollment, quiz, learner, right=False)
    page = _page(client, enrollment, quiz)
    assert "Correct answer" not in page and "EXPLAIN-NUMERIC" not in page
    assert "shown once you pass or have used your last attempt" in page

    _attempt(enrollment, quiz, learner, right=False)
    page = _page(client, enrollment, quiz)
    assert "Correct answer: <strong>21.75 (± 0.25)</strong>" in page
    assert "EXPLAIN-NUMERIC" in page
    assert "You have used all 2 attempts at this quiz without passing." in page
    assert "Try again" not in page


# --- wait between attempts ------------------------------------------------------------------


def test_the_wait_between_attempts_is_enforced_on_the_server(
    client, as_learner, course, enrollment, learner, pinned_clock
):
    quiz = _tf_quiz(course, retry_wait_minutes=30)
    first = _attempt(enrollment, quiz, learner, right=False)
    at = first.submitted_at + timedelta(minutes=30)

    resp = client.post(module_url(enrollment, quiz, "/quiz"), data={"csrf_token": as_learner})
    page = client.get(resp.headers["Location"]).get_data(as_text=True)

    assert f"You can try again at {at:%H:%M} UTC." in page  # the flash of the refused start
    assert f"You can try again at <strong>{at:%H:%M} UTC</strong>" in page  # the panel
    assert "Try again</button>" not in page
    assert len(quizzes.quiz_state(enrollment.id, quiz).attempts) == 1

    pinned_clock.shift(timedelta(minutes=29))
    with pytest.raises(Conflict, match="You can try again at"):
        quizzes.start_attempt(enrollment.id, quiz.id, learner)
    pinned_clock.shift(timedelta(minutes=1, seconds=1))
    assert quizzes.start_attempt(enrollment.id, quiz.id, learner).attempt_no == 2


def test_the_wait_is_told_in_the_learners_zone(app, course, enrollment, learner):
    learner.timezone = "Europe/Zurich"
    db.session.commit()
    quiz = _tf_quiz(course, retry_wait_minutes=60)
    first = _attempt(enrollment, quiz, learner, right=False)
    with pytest.raises(Conflict) as exc:
        quizzes.start_attempt(enrollment.id, quiz.id, learner)
    local = (first.submitted_at + timedelta(minutes=60)) + timedelta(hours=1)  # CET in December
    assert exc.value.detail == f"You can try again at {local:%H:%M} CET."


# --- pools ----------------------------------------------------------------------------------


def test_a_retry_draws_other_questions_and_grading_uses_the_drawn_set(
    client, as_learner, course, enrollment, learner
):
    quiz = _tf_quiz(course, n=6, pool_size=3, attempt_limit=0)
    first = _attempt(enrollment, quiz, learner, right=False)
    second = quizzes.start_attempt(enrollment.id, quiz.id, learner)

    shown_first = {q["id"] for q in first.questions}
    shown_second = {q["id"] for q in second.questions}
    assert len(shown_first) == len(shown_second) == 3
    assert shown_first.isdisjoint(shown_second)  # unseen questions first

    # Answers to a question shown last time but not now are refused; the drawn set is graded.
    stale = next(iter(shown_first))
    with pytest.raises(Invalid, match="not part of this attempt"):
        quizzes.submit_attempt(second.id, {str(stale): "true"}, learner)
    quizzes.submit_attempt(
        second.id, {k[2:]: v for k, v in correct_answers(second).items()}, learner
    )
    run_queued_jobs(client.application)
    db.session.expire_all()
    graded = db.session.get(Result, second.id)
    assert (graded.score, graded.max_score, graded.passed) == (3.0, 3.0, True)
    assert set(graded.feedback["questions"]) == {str(i) for i in shown_second}


def test_grading_uses_the_question_as_it_was_shown(app, course, enrollment, learner, trainer):
    quiz = _tf_quiz(course)
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    question = quiz.questions[0]
    modules.update_question(
        question.id,
        {"prompt": "Statement 0", "options": [], "answer": {"correct": "false"}},
        trainer,
    )
    quizzes.submit_attempt(result.id, {str(question.id): "true"}, learner)
    run_queued_jobs(app)
    db.session.expire_all()
    graded = db.session.get(Result, result.id)
    assert graded.passed is True and graded.questions[0]["version"] == 1
    assert db.session.get(type(question), question.id).version == 2


def test_the_draw_is_seeded_per_attempt(app):
    quiz = add_quiz_questions(10)
    policy = modules.QuizPolicy(pool_size=4, shuffle=True)

    def draw(attempt_no: int) -> list[int]:
        rng = quizzes.attempt_rng(1, quiz.id, attempt_no)
        return [q.id for q in quizzes.draw_questions(quiz.questions, policy, rng)]

    assert draw(1) == draw(1)  # reproducible
    assert len({tuple(draw(n)) for n in range(1, 6)}) > 1  # yet not the same every time
    assert all(len(draw(n)) == 4 for n in range(1, 6))


def test_least_seen_questions_come_first(app):
    quiz = add_quiz_questions(4)
    ids = [q.id for q in quiz.questions]
    seen = Counter({ids[0]: 2, ids[1]: 1, ids[2]: 1})
    policy = modules.QuizPolicy(pool_size=2)
    drawn = quizzes.draw_questions(quiz.questions, policy, quizzes.attempt_rng(1, 1, 1), seen)
    assert ids[3] in [q.id for q in drawn] and ids[0] not in [q.id for q in drawn]


def test_a_pool_per_topic_draws_from_each_topic(app):
    quiz = add_quiz_questions(9, topics=["ppe", "ppe", "ppe", "ppe", "gmp", "gmp", "gmp", None])
    policy = modules.QuizPolicy(pool_size=2, pool_per_topic=True)
    drawn = quizzes.draw_questions(quiz.questions, policy, quizzes.attempt_rng(1, 1, 2))
    topics = Counter(q.topic for q in drawn)
    assert topics == {"ppe": 2, "gmp": 2, None: 2}


def add_quiz_questions(n: int, topics: list | None = None) -> Module:
    from tests.learning.factories import CourseFactory

    quiz = add_module(CourseFactory(), "quiz")
    for i in range(n):
        topic = topics[i] if topics and i < len(topics) else None
        QuizQuestionFactory(module=quiz, position=i + 1, prompt=f"Q{i}", topic=topic)
    db.session.expire(quiz)
    return quiz


# --- a trainer's extra attempt ---------------------------------------------------------------


def test_a_trainer_grants_one_more_attempt_and_it_is_audited(
    app, course, enrollment, learner, trainer
):
    quiz = _tf_quiz(course, attempt_limit=1)
    _attempt(enrollment, quiz, learner, right=False)
    assert quizzes.quiz_state(enrollment.id, quiz).exhausted

    assert quizzes.grant_attempt(quiz.id, enrollment.id, trainer, "Was ill that day") == 2

    state = quizzes.quiz_state(enrollment.id, quiz)
    assert (state.attempt_limit, state.attempts_left, state.can_start) == (2, 1, True)
    assert _attempt(enrollment, quiz, learner, right=True).passed is True
    row = db.session.scalars(select(AuditLog).where(AuditLog.entity == "quiz_attempt_grant")).one()
    assert (row.action, row.actor_id, row.reason) == ("create", trainer.id, "Was ill that day")
    assert row.after["attempts_allowed"] == 2 and row.after["user_id"] == learner.id


def test_a_grant_is_refused_while_attempts_are_left(app, course, enrollment, learner, trainer):
    quiz = _tf_quiz(course, attempt_limit=2)
    _attempt(enrollment, quiz, learner, right=False)
    with pytest.raises(Conflict):
        quizzes.grant_attempt(quiz.id, enrollment.id, trainer)
    assert db.session.scalars(select(QuizAttemptGrant)).all() == []


def test_a_grant_is_refused_after_a_pass_or_on_unlimited_quizzes(
    app, course, enrollment, learner, trainer
):
    quiz = _tf_quiz(course, attempt_limit=1)
    add_module(course, "text")
    _attempt(enrollment, quiz, learner, right=True)
    with pytest.raises(Conflict, match="has passed"):
        quizzes.grant_attempt(quiz.id, enrollment.id, trainer)
    unlimited = _tf_quiz(course, attempt_limit=0)
    with pytest.raises(Conflict, match="unlimited"):
        quizzes.grant_attempt(unlimited.id, enrollment.id, trainer)
