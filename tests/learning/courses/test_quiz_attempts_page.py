"""Trainers see attempts per learner at a quiz, read each attempt's answers and allow one more
attempt; learners and other roles cannot."""

from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.learning import quizzes
from app.learning.models import QuizAttemptGrant, Result
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.helpers.jobs import run_queued_jobs
from tests.learning.factories import CourseFactory, EnrollmentFactory, ModuleFactory
from tests.learning.player.conftest import add_quiz, correct_answers
from tests.people.factories import UserFactory

TF = [{"kind": "true_false", "prompt": "Gloves first?", "answer": {"correct": True}}]


def _attempt(learner, enrollment, quiz, right: bool) -> Result:
    result = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    answers = {k[2:]: v for k, v in correct_answers(result).items()} if right else {}
    quizzes.submit_attempt(result.id, answers, learner)
    run_queued_jobs(current_app._get_current_object())
    return result


@pytest.fixture
def quiz(app):
    course = CourseFactory(title="Cleanroom Basics")
    ModuleFactory(course=course, position=1, kind="text")
    return add_quiz(course, questions=TF, attempt_limit=2)


def _learners(quiz, n: int, start: int = 0) -> list:
    out = []
    for i in range(start, start + n):
        learner = UserFactory(roles=["employee"], name=f"Learner {i:02d}")
        enrollment = EnrollmentFactory(user=learner, course=quiz.course)
        _attempt(learner, enrollment, quiz, right=False)
        if i % 2:
            _attempt(learner, enrollment, quiz, right=True)
        out.append((learner, enrollment))
    return out


@pytest.mark.parametrize(
    "role, status", [("trainer", 200), ("admin", 200), ("employee", 403), ("manager", 403)]
)
def test_only_trainers_and_admins_see_the_attempts(client, auth, quiz, role, status):
    ((learner, _),) = _learners(quiz, 1)
    result = db.session.scalars(select(Result)).first()
    auth.login(UserFactory(roles=[role]))
    assert client.get(f"/authoring/modules/{quiz.id}/attempts").status_code == status
    assert client.get(f"/authoring/attempts/{result.id}").status_code == status


def test_the_learner_whose_attempt_it_is_cannot_read_it_here(client, auth, quiz):
    ((learner, enrollment),) = _learners(quiz, 1)
    auth.login(learner)
    result = db.session.scalars(select(Result)).first()
    assert client.get(f"/authoring/attempts/{result.id}").status_code == 403
    token = csrf(client, "/home")
    resp = client.post(
        f"/authoring/modules/{quiz.id}/attempts/{enrollment.id}/grant",
        data={"csrf_token": token},
    )
    assert resp.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(QuizAttemptGrant)) == 0


def test_the_page_lists_attempts_best_score_and_result_per_learner(client, auth, quiz):
    _learners(quiz, 2)
    auth.login(UserFactory(roles=["trainer"]))
    body = client.get(f"/authoring/modules/{quiz.id}/attempts").get_data(as_text=True)

    rows = body.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    assert "Learner 00" in rows[0] and "Learner 01" in rows[1]
    assert "1 / 2" in rows[0] and "0.0%" in rows[0] and "not passed yet" in rows[0]
    assert "2 / 2" in rows[1] and "100.0%" in rows[1] and ">passed<" in rows[1]
    results = db.session.scalars(select(Result).order_by(Result.id)).all()
    for r in results:
        assert f'href="/authoring/attempts/{r.id}"' in body
    assert "2 learners attempted this quiz." in body


def test_a_trainer_reads_an_attempt_with_the_correct_answers(client, auth, quiz):
    _learners(quiz, 1)
    auth.login(UserFactory(roles=["trainer"]))
    result = db.session.scalars(select(Result)).first()
    body = client.get(f"/authoring/attempts/{result.id}").get_data(as_text=True)
    assert "Learner 00 · attempt 1" in body and "Not passed" in body
    assert "Answer given: (no answer)" in body and "Correct answer: <strong>True</strong>" in body


def test_the_page_runs_the_same_queries_for_3_or_30_learners(client, auth, quiz, count_queries):
    url = f"/authoring/modules/{quiz.id}/attempts"
    _learners(quiz, 3)
    auth.login(UserFactory(roles=["trainer"]))
    client.get(url)
    with count_queries() as few:
        client.get(url)
    _learners(quiz, 27, start=3)
    with count_queries() as many:
        body = client.get(url).get_data(as_text=True)
    assert len(few) == len(many)
    assert "Page 1 of 2" in body and "Learner 24" in body and "Learner 25" not in body
    page2 = client.get(f"/authoring/modules/{quiz.id}/attempts?page=2").get_data(as_text=True)
    assert "Learner 25" in page2 and "Learner 29" in page2 and "Learner 00" not in page2
    frag = client.get(
        f"/authoring/modules/{quiz.id}/attempts?page=2", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in frag and "Learner 25" in frag


def test_a_trainer_allows_one_more_attempt_from_the_page(client, auth, quiz):
    ((learner, enrollment),) = _learners(quiz, 1)
    _attempt(learner, enrollment, quiz, right=False)  # second and last attempt
    trainer = UserFactory(roles=["trainer"])
    auth.login(trainer)
    body = client.get(f"/authoring/modules/{quiz.id}/attempts").get_data(as_text=True)
    assert "out of attempts" in body and "Allow one more attempt" in body

    resp = client.post(
        f"/authoring/modules/{quiz.id}/attempts/{enrollment.id}/grant",
        data={"csrf_token": csrf(client, "/home"), "reason": "Fire alarm mid-quiz"},
    )

    assert resp.status_code == 302
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "One more attempt allowed (3 in all)." in page and "2 / 3" in page
    audit = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "quiz_attempt_grant")
    ).one()
    assert (audit.actor_id, audit.reason) == (trainer.id, "Fire alarm mid-quiz")
    assert quizzes.quiz_state(enrollment.id, quiz).can_start


def test_a_grant_with_attempts_left_is_refused_with_a_message(client, auth, quiz):
    ((learner, enrollment),) = _learners(quiz, 1)
    auth.login(UserFactory(roles=["trainer"]))
    resp = client.post(
        f"/authoring/modules/{quiz.id}/attempts/{enrollment.id}/grant",
        data={"csrf_token": csrf(client, "/home")},
    )
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "still has an attempt left" in page
    assert db.session.scalar(select(func.count()).select_from(QuizAttemptGrant)) == 0


def test_a_module_that_is_not_a_quiz_has_no_attempts_page(client, auth, quiz):
    text = quiz.course.modules[0]
    auth.login(UserFactory(roles=["trainer"]))
    assert client.get(f"/authoring/modules/{text.id}/attempts").status_code == 404
