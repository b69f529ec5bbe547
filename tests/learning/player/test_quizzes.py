"""Quizzes: no answers in the attempt page, grading per kind, limits, deadline, idempotence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.learning import quizzes
from app.learning.jobs import grade_quiz_attempt
from app.learning.models import Enrollment, Progress, Result
from app.platform import clock
from app.platform.errors import Conflict, Invalid
from app.platform.jobs import enqueue
from tests.helpers.jobs import run_queued_jobs
from tests.learning.player.conftest import (
    QUESTIONS,
    add_module,
    add_quiz,
    attempt_id,
    audit_count,
    correct_answers,
    module_url,
    no_html_page,
)


def _results(enrollment) -> list[Result]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Result).where(Result.enrollment_id == enrollment.id).order_by(Result.id)
        )
    )


def _start(client, token, enrollment, quiz) -> tuple[int, str]:
    resp = client.post(module_url(enrollment, quiz, "/quiz"), data={"csrf_token": token})
    assert resp.status_code == 302
    body = client.get(module_url(enrollment, quiz)).get_data(as_text=True)
    return attempt_id(body), body


def _submit(client, token, enrollment, quiz, rid, answers, **headers):
    return client.post(
        module_url(enrollment, quiz, f"/attempts/{rid}"),
        data={"csrf_token": token, **answers},
        headers=headers,
    )


def test_the_attempt_page_never_contains_answers_or_explanations(
    client, as_learner, course, enrollment
):
    quiz = add_quiz(course)

    rid, body = _start(client, as_learner, enrollment, quiz)

    for q in QUESTIONS:
        assert q["prompt"] in body
        assert q["explanation"] not in body
        assert "EXPLAIN" not in body
    assert "21.75" not in body and "0.25" not in body  # numeric value and tolerance
    assert "Change Control Form" not in body  # accepted short-text answer
    assert "correct" not in body.lower()
    form = body.split('class="quiz-form"')[1].split("</form>")[0]
    assert form.count('type="radio"') == 3 + 2  # single (3 options) + true/false
    assert form.count('type="checkbox"') == 3
    assert 'type="number" step="any"' in form
    assert 'type="text" maxlength="500"' in form
    assert db.session.get(Result, rid).status == "in_progress"


def test_passing_answers_are_graded_and_feedback_is_shown(client, as_learner, course, enrollment):
    quiz = add_quiz(course)
    add_module(course, "text")  # keeps the course open so we look at the quiz alone
    rid, _ = _start(client, as_learner, enrollment, quiz)

    resp = _submit(
        client, as_learner, enrollment, quiz, rid, correct_answers(_results(enrollment)[0])
    )
    run_queued_jobs(client.application)

    assert resp.status_code == 302
    result = _results(enrollment)[0]
    assert (result.status, result.score, result.max_score, result.passed) == (
        "graded",
        10.0,
        10.0,
        True,
    )
    assert [q["version"] for q in result.questions] == [1] * 5
    assert result.answers  # kept as given
    body = client.get(module_url(enrollment, quiz)).get_data(as_text=True)
    assert "Attempt 1: passed" in body and "10.0 / 10.0" in body
    assert "EXPLAIN-NUMERIC" in body  # explanations appear once graded
    db.session.expire_all()
    progress = db.session.scalar(select(Progress).where(Progress.module_id == quiz.id))
    assert progress.status == "completed"


def test_a_failed_attempt_shows_what_was_wrong_but_not_the_correct_answers(
    client, as_learner, course, enrollment
):
    quiz = add_quiz(course)  # default policy: answers revealed after passing
    rid, _ = _start(client, as_learner, enrollment, quiz)
    answers = correct_answers(_results(enrollment)[0])
    numeric = next(q for q in QUESTIONS if q["kind"] == "numeric")
    key = next(k for k, v in answers.items() if v == [str(numeric["answer"]["value"])])
    answers[key] = ["30"]
    answers = {k: v for k, v in answers.items() if v != ["Change Control Form"]}

    _submit(client, as_learner, enrollment, quiz, rid, answers)
    run_queued_jobs(client.application)

    result = _results(enrollment)[0]
    assert (result.score, result.passed) == (6.0, False)  # 10 - numeric 2 - short text 2
    body = client.get(module_url(enrollment, quiz)).get_data(as_text=True)
    assert "not passed" in body and "6.0 / 10.0" in body
    assert body.count('class="feedback wrong"') == 2 and body.count('class="feedback right"') == 3
    assert "Correct answer" not in body
    assert "21.75" not in body and "Change Control Form" not in body
    assert "EXPLAIN-NUMERIC" not in body and "EXPLAIN-SHORT" not in body  # they give it away
    assert "EXPLAIN-SINGLE" in body  # explaining a right answer gives nothing away
    assert "The correct answers are shown once you pass." in body
    assert "Your answer: (no answer)" in body
    assert "Try again" in body


def _q(kind: str) -> dict:
    base = next(dict(q) for q in QUESTIONS if q["kind"] == kind)
    base.update(id=1, version=1, order=list(range(len(base["options"]))))
    return base


@pytest.mark.parametrize(
    "kind, given, correct",
    [
        ("single", [1], True),
        ("single", [0], False),
        ("single", [], False),
        ("multiple", [0, 1], True),
        ("multiple", [0], False),  # all or nothing
        ("multiple", [0, 1, 2], False),
        ("true_false", True, True),
        ("true_false", False, False),
        ("numeric", 21.75, True),
        ("numeric", 22.0, True),  # upper edge of the tolerance
        ("numeric", 21.5, True),  # lower edge
        ("numeric", 22.0001, False),
        ("numeric", 21.4999, False),
        ("short_text", "change control form", True),
        ("short_text", "  CHANGE   control\tFORM ", True),
        ("short_text", "change form", False),
        ("short_text", None, False),
    ],
)
def test_each_question_kind_is_scored_right(kind, given, correct):
    assert quizzes.score_question(_q(kind), given) is correct


def test_numeric_tolerance_survives_floating_point():
    q = {"kind": "numeric", "answer": {"value": 0.3, "tolerance": 0.1}}
    assert quizzes.score_question(q, 0.4) is True
    assert quizzes.score_question(q, 0.2) is True
    assert quizzes.score_question(q, 0.41) is False


def test_case_sensitive_short_text_is_respected():
    q = {"kind": "short_text", "answer": {"accepted": ["pH"], "case_sensitive": True}}
    assert quizzes.score_question(q, "pH") is True
    assert quizzes.score_question(q, "PH") is False


@pytest.mark.parametrize("kind", ["single", "multiple", "true_false", "numeric", "short_text"])
def test_each_kind_is_graded_right_through_the_form(client, as_learner, course, enrollment, kind):
    quiz = add_quiz(course, questions=[next(q for q in QUESTIONS if q["kind"] == kind)])
    rid, _ = _start(client, as_learner, enrollment, quiz)

    _submit(client, as_learner, enrollment, quiz, rid, correct_answers(_results(enrollment)[0]))
    run_queued_jobs(client.application)

    result = _results(enrollment)[0]
    assert result.passed is True and result.score == result.max_score > 0


def test_pool_and_shuffle_are_stored_and_graded_through_the_shown_order(
    client, as_learner, course, enrollment
):
    quiz = add_quiz(course, pool_size=3, shuffle=True)

    rid, body = _start(client, as_learner, enrollment, quiz)

    result = _results(enrollment)[0]
    assert len(result.questions) == 3
    assert {q["id"] for q in result.questions} <= {q.id for q in quiz.questions}
    for q in result.questions:
        assert sorted(q["order"]) == list(range(len(q["options"])))
        for shown, orig in enumerate(q["order"]):  # the page shows options in the stored order
            if q["kind"] in ("single", "multiple"):
                assert f'value="{shown}"> {q["options"][orig]}' in body
    assert all("version" in q for q in result.questions)
    _submit(client, as_learner, enrollment, quiz, rid, correct_answers(result))
    run_queued_jobs(client.application)
    assert _results(enrollment)[0].passed is True


def test_the_attempt_limit_is_enforced(client, as_learner, course, enrollment):
    quiz = add_quiz(course, attempt_limit=1)
    rid, _ = _start(client, as_learner, enrollment, quiz)
    _submit(client, as_learner, enrollment, quiz, rid, {})
    run_queued_jobs(client.application)

    resp = client.post(module_url(enrollment, quiz, "/quiz"), data={"csrf_token": as_learner})

    assert resp.status_code == 302
    assert len(_results(enrollment)) == 1
    body = client.get(module_url(enrollment, quiz)).get_data(as_text=True)
    assert "You have used all 1 attempt at this quiz without passing." in body
    assert "Your trainer can allow another attempt." in body
    assert "This quiz shows the correct answers only after a pass." in body
    assert "Start the quiz" not in body and "Try again" not in body


def test_starting_twice_resumes_the_open_attempt(client, as_learner, course, enrollment, learner):
    quiz = add_quiz(course)
    first = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    assert quizzes.start_attempt(enrollment.id, quiz.id, learner).id == first.id
    assert len(_results(enrollment)) == 1


def test_the_time_limit_is_enforced_on_the_server(client, as_learner, course, enrollment):
    quiz = add_quiz(course, time_limit_minutes=10)
    rid, _ = _start(client, as_learner, enrollment, quiz)
    result = db.session.get(Result, rid)
    assert result.deadline_at - result.started_at == timedelta(minutes=10)
    result.deadline_at = clock.now() - timedelta(seconds=31)
    db.session.commit()

    resp = _submit(client, as_learner, enrollment, quiz, rid, correct_answers(result))
    run_queued_jobs(client.application)

    assert resp.status_code == 302
    result = _results(enrollment)[0]
    assert result.answers == {}  # answers after the deadline are not accepted
    assert (result.status, result.score, result.passed) == ("graded", 0.0, False)
    assert result.feedback["late"] is True


def test_answers_within_the_grace_period_count(client, as_learner, course, enrollment):
    quiz = add_quiz(course, time_limit_minutes=10)
    rid, _ = _start(client, as_learner, enrollment, quiz)
    result = db.session.get(Result, rid)
    result.deadline_at = clock.now() - timedelta(seconds=20)
    db.session.commit()

    _submit(client, as_learner, enrollment, quiz, rid, correct_answers(result))
    run_queued_jobs(client.application)

    assert _results(enrollment)[0].passed is True


def test_answers_to_another_quizs_questions_are_refused(client, as_learner, course, enrollment):
    quiz = add_quiz(course)
    other = add_quiz(course, questions=QUESTIONS[:1])
    rid, _ = _start(client, as_learner, enrollment, quiz)
    foreign = other.questions[0].id

    resp = _submit(client, as_learner, enrollment, quiz, rid, {f"q-{foreign}": "1"})

    assert resp.status_code == 422
    assert f"Question {foreign} is not part of this attempt." in resp.get_data(as_text=True)
    result = _results(enrollment)[0]
    assert (result.status, result.answers, result.submitted_at) == ("in_progress", {}, None)


def test_an_out_of_range_option_is_refused(client, as_learner, course, enrollment, learner):
    quiz = add_quiz(course, questions=QUESTIONS[:1])
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    with pytest.raises(Invalid) as exc:
        quizzes.submit_attempt(result.id, {str(result.questions[0]["id"]): ["7"]}, learner)
    assert f"q-{result.questions[0]['id']}" in exc.value.errors
    assert _results(enrollment)[0].status == "in_progress"


def test_someone_else_cannot_submit_my_attempt(app, course, enrollment, learner):
    from tests.people.factories import UserFactory

    quiz = add_quiz(course)
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    from app.platform.errors import Forbidden

    with pytest.raises(Forbidden):
        quizzes.submit_attempt(result.id, {}, UserFactory())


def test_submitting_twice_is_a_conflict(app, course, enrollment, learner):
    quiz = add_quiz(course)
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    quizzes.submit_attempt(result.id, {}, learner)
    with pytest.raises(Conflict):
        quizzes.submit_attempt(result.id, {}, learner)


def _submitted(enrollment, quiz, learner) -> Result:
    """A submitted attempt whose grading job has not run (status forced back to submitted)."""
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    answers = {k[2:]: v for k, v in correct_answers(result).items()}  # as the view builds it
    result.answers = quizzes.validate_answers(result, answers)
    result.status = "submitted"
    result.submitted_at = clock.now()
    db.session.commit()
    return result


def test_the_grading_job_run_twice_stores_one_result(app, course, enrollment, learner):
    quiz = add_quiz(course)
    add_module(course, "text")
    result = _submitted(enrollment, quiz, learner)

    assert grade_quiz_attempt(result.id) is True
    db.session.expire_all()
    first = db.session.get(Result, result.id)
    graded_at, feedback = first.graded_at, first.feedback
    assert grade_quiz_attempt(result.id) is False

    db.session.expire_all()
    again = db.session.get(Result, result.id)
    assert (again.graded_at, again.feedback, again.score) == (graded_at, feedback, 10.0)
    assert audit_count("result", reason="auto-graded") == 1
    assert db.session.scalar(select(func.count()).select_from(Result)) == 1


def test_a_job_delivered_twice_through_the_queue_stores_one_result(
    app, course, enrollment, learner
):
    quiz = add_quiz(course)
    add_module(course, "text")
    result = _submitted(enrollment, quiz, learner)

    for job_id in (f"grade-result-{result.id}", f"grade-result-{result.id}-again"):
        enqueue("grading.grade_quiz_attempt", result.id, queue="grading", job_id=job_id)
    run_queued_jobs(app)

    db.session.expire_all()
    assert db.session.get(Result, result.id).status == "graded"
    assert audit_count("result", reason="auto-graded") == 1


def test_passing_the_only_module_completes_the_enrollment(client, as_learner, course, enrollment):
    quiz = add_quiz(course)
    rid, _ = _start(client, as_learner, enrollment, quiz)

    _submit(client, as_learner, enrollment, quiz, rid, correct_answers(_results(enrollment)[0]))
    run_queued_jobs(client.application)

    db.session.expire_all()
    done = db.session.get(Enrollment, enrollment.id)
    assert (done.status, done.score) == ("completed", 100.0)
    assert done.completed_at is not None


def test_no_more_attempts_after_passing(client, as_learner, course, enrollment, learner):
    quiz = add_quiz(course)
    add_module(course, "text")
    rid, _ = _start(client, as_learner, enrollment, quiz)
    _submit(client, as_learner, enrollment, quiz, rid, correct_answers(_results(enrollment)[0]))
    run_queued_jobs(client.application)

    with pytest.raises(Conflict):
        quizzes.start_attempt(enrollment.id, quiz.id, learner)


def test_the_polling_fragment_is_only_the_fragment_for_htmx(
    client, as_learner, course, enrollment, learner
):
    quiz = add_quiz(course)
    result = _submitted(enrollment, quiz, learner)
    url = module_url(enrollment, quiz, f"/attempts/{result.id}")

    frag = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)

    assert no_html_page(frag)
    # The whole quiz panel, so what may come next (try again, attempts left) comes with it.
    assert frag.lstrip().startswith('<div id="quiz-panel">')
    assert f'<div id="attempt-{result.id}"' in frag
    assert 'hx-trigger="load delay:1s"' in frag and 'hx-target="#quiz-panel"' in frag
    assert "Refresh" in frag  # the no-JavaScript way on
    assert "<html" in page and 'hx-trigger="load delay:1s"' in page

    grade_quiz_attempt(result.id)
    graded = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert no_html_page(graded)
    assert "hx-trigger" not in graded.split('id="module-head"')[0]  # polling stopped
    assert "passed" in graded and "EXPLAIN-SINGLE" in graded
    assert "Start the quiz" not in graded and "Try again" not in graded  # passed: nothing next
    # The header, progress bar and outline follow out of band (see test_status_refresh.py).
    assert '<div id="module-head" class="page-head" hx-swap-oob="true">' in graded
    assert '<ol id="outline-list" class="outline-list" hx-swap-oob="true">' in graded


def test_the_page_of_a_submitted_attempt_polls(client, as_learner, course, enrollment, learner):
    quiz = add_quiz(course)
    _submitted(enrollment, quiz, learner)
    body = client.get(module_url(enrollment, quiz)).get_data(as_text=True)
    assert "Grading your answers" in body and 'hx-trigger="load delay:1s"' in body
    assert "EXPLAIN" not in body


def test_a_quiz_with_no_questions_cannot_start(client, as_learner, course, enrollment):
    quiz = add_quiz(course, questions=[])
    client.post(module_url(enrollment, quiz, "/quiz"), data={"csrf_token": as_learner})
    assert _results(enrollment) == []
    assert "no questions yet" in client.get(module_url(enrollment, quiz)).get_data(as_text=True)


def test_an_attempt_of_another_module_url_is_not_found(
    client, as_learner, course, enrollment, learner
):
    quiz = add_quiz(course)
    text = add_module(course, "text")
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    assert client.get(module_url(enrollment, text, f"/attempts/{result.id}")).status_code == 404


def test_grading_progress_of_a_failed_attempt_leaves_the_module_open(
    app, course, enrollment, learner
):
    quiz = add_quiz(course)
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    quizzes.submit_attempt(result.id, {}, learner)
    run_queued_jobs(app)
    db.session.expire_all()
    assert db.session.get(Result, result.id).passed is False
    assert db.session.scalar(select(Progress).where(Progress.module_id == quiz.id)) is None
    assert db.session.get(Enrollment, enrollment.id).status == "in_progress"


def test_a_failed_grade_arrives_with_the_way_to_try_again(
    client, as_learner, course, enrollment, learner
):
    """With a worker grading, the learner waits on the poll: when the grade is a fail, the same
    swap brings "Try again" and the attempts left, without a reload."""
    quiz = add_quiz(course)
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    result.answers = {}
    result.status = "submitted"
    result.submitted_at = clock.now()
    db.session.commit()
    grade_quiz_attempt(result.id)
    url = module_url(enrollment, quiz, f"/attempts/{result.id}")
    graded = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Attempt 1: not passed" in graded
    assert "Try again" in graded and "3 attempts (2 left)" in graded
