"""Assignments: submission (text / PDF), resubmission until graded, trainer queue and rubric."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.learning import assignments
from app.learning.models import Enrollment, Progress, Result
from app.platform import clock, files
from app.platform.files import StoredFile
from tests.conftest import csrf
from tests.learning.factories import EnrollmentFactory
from tests.learning.player.conftest import PDF, add_module, module_url, upload
from tests.people.factories import UserFactory

RUBRIC = [{"criterion": "Root cause found", "points": 6}, {"criterion": "CAPA plan", "points": 4}]


def _submissions(enrollment) -> list[Result]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Result).where(Result.enrollment_id == enrollment.id).order_by(Result.id)
        )
    )


def _hand_in(client, token, enrollment, module, text="", file=None):
    data = {"csrf_token": token, "text": text}
    if file is not None:
        data["file"] = file
    return client.post(
        module_url(enrollment, module, "/assignment"),
        data=data,
        content_type="multipart/form-data",
    )


@pytest.fixture
def assignment(course):
    return add_module(
        course,
        "assignment",
        title="Deviation write-up",
        body="Write up **the deviation**.",
        settings={"rubric": RUBRIC},
    )


def test_a_learner_hands_in_text_and_a_pdf(client, as_learner, enrollment, assignment):
    resp = _hand_in(
        client, as_learner, enrollment, assignment, "Root cause: torn glove.", upload(PDF, "cr.pdf")
    )

    assert resp.status_code == 303
    [result] = _submissions(enrollment)
    assert (result.kind, result.status, result.submission_text) == (
        "assignment",
        "submitted",
        "Root cause: torn glove.",
    )
    assert result.submission_file.filename == "cr.pdf"
    body = client.get(module_url(enrollment, assignment)).get_data(as_text=True)
    assert "Root cause: torn glove." in body and "cr.pdf" in body
    assert "Replace your submission" in body


def test_an_empty_submission_is_refused(client, as_learner, enrollment, assignment):
    resp = _hand_in(client, as_learner, enrollment, assignment, "   ")
    assert resp.status_code == 422
    assert "Write an answer or attach a PDF." in resp.get_data(as_text=True)
    assert _submissions(enrollment) == []


def test_an_oversized_upload_is_a_form_error(
    client, as_learner, enrollment, assignment, monkeypatch
):
    monkeypatch.setitem(files.SIZE_LIMITS, "document", 16)
    resp = _hand_in(client, as_learner, enrollment, assignment, "See file", upload(PDF, "big.pdf"))

    assert resp.status_code == 422
    assert "larger than the" in resp.get_data(as_text=True)
    assert _submissions(enrollment) == []
    assert db.session.scalar(select(StoredFile).where(StoredFile.filename == "big.pdf")) is None


def test_a_non_pdf_is_refused(client, as_learner, enrollment, assignment):
    resp = _hand_in(client, as_learner, enrollment, assignment, "", upload(b"MZ\x90\x00", "x.exe"))
    assert resp.status_code == 422
    assert _submissions(enrollment) == []


def test_resubmitting_before_grading_replaces_the_submission(
    client, as_learner, enrollment, assignment
):
    _hand_in(client, as_learner, enrollment, assignment, "First draft")
    _hand_in(client, as_learner, enrollment, assignment, "Second draft")

    [result] = _submissions(enrollment)
    assert (result.submission_text, result.attempt_no) == ("Second draft", 1)


def test_the_trainer_grades_and_the_learner_sees_the_grade(
    client, auth, learner, trainer, course, enrollment, assignment
):
    add_module(course, "text")
    auth.login(learner)
    _hand_in(client, csrf(client, "/home"), enrollment, assignment, "My answer")
    [result] = _submissions(enrollment)
    auth.logout()

    auth.login(trainer)
    queue = client.get("/grading").get_data(as_text=True)
    assert "Deviation write-up" in queue and learner.name in queue
    page = client.get(f"/grading/{result.id}").get_data(as_text=True)
    assert "My answer" in page and "Root cause found (0–6.0)" in page and "CAPA plan" in page
    resp = client.post(
        f"/grading/{result.id}",
        data={
            "csrf_token": csrf(client, f"/grading/{result.id}"),
            "score-0": "5",
            "score-1": "3.5",
            "comment": "Good CAPA; name the owner next time.",
            "signature_password": "password",
        },
    )
    assert resp.status_code == 302
    auth.logout()

    [graded] = _submissions(enrollment)
    assert (graded.status, graded.score, graded.max_score, graded.passed) == (
        "graded",
        8.5,
        10.0,
        True,
    )
    assert graded.graded_by_id == trainer.id and graded.graded_at is not None
    assert graded.rubric_scores["1"] == {"criterion": "CAPA plan", "points": 4.0, "score": 3.5}
    progress = db.session.scalar(select(Progress).where(Progress.module_id == assignment.id))
    assert progress.status == "completed"

    auth.login(learner)
    body = client.get(module_url(enrollment, assignment)).get_data(as_text=True)
    assert "Grade: 8.5 / 10.0" in body and "85.0%" in body
    assert "Good CAPA; name the owner next time." in body
    assert "Graded by Tess Trainer" in body
    assert "Hand in" not in body  # passed: nothing more to hand in


def test_a_failing_grade_lets_the_learner_submit_again(
    app, learner, trainer, enrollment, assignment
):
    first = assignments.submit_assignment(enrollment.id, assignment.id, learner, "Thin answer")
    assignments.grade_assignment(
        first.id, {"0": "1", "1": "1"}, "Too thin.", trainer, password="password"
    )

    second = assignments.submit_assignment(enrollment.id, assignment.id, learner, "Better")

    assert second.id != first.id and second.attempt_no == 2
    assert [r.status for r in _submissions(enrollment)] == ["graded", "submitted"]


def test_passing_the_only_assignment_completes_the_enrollment(app, learner, trainer, course):
    only = add_module(course, "assignment", settings={"rubric": RUBRIC})
    enrollment = EnrollmentFactory(user=learner, course=course)
    result = assignments.submit_assignment(enrollment.id, only.id, learner, "Answer")

    assignments.grade_assignment(result.id, {"0": "6", "1": "4"}, "", trainer, password="password")

    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).status == "completed"


@pytest.mark.parametrize(
    "scores, field",
    [({"0": "7", "1": "1"}, "score-0"), ({"0": "", "1": "1"}, "score-0"), ({"0": "1"}, "score-1")],
)
def test_bad_scores_are_form_errors(
    client, auth, learner, trainer, enrollment, assignment, scores, field
):
    result = assignments.submit_assignment(enrollment.id, assignment.id, learner, "Answer")
    auth.login(trainer)
    data = {"csrf_token": csrf(client, f"/grading/{result.id}")}
    data.update({f"score-{k}": v for k, v in scores.items()})

    resp = client.post(f"/grading/{result.id}", data=data)

    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert 'class="field has-error"' in body and f'id="{field}"' in body
    assert _submissions(enrollment)[0].status == "submitted"


def test_grading_twice_is_a_conflict(app, learner, trainer, enrollment, assignment):
    result = assignments.submit_assignment(enrollment.id, assignment.id, learner, "Answer")
    assignments.grade_assignment(result.id, {"0": "6", "1": "4"}, "", trainer, password="password")
    from app.platform.errors import Conflict

    with pytest.raises(Conflict):
        assignments.grade_assignment(result.id, {"0": "0", "1": "0"}, "", trainer)
    assert _submissions(enrollment)[0].score == 10.0


def test_the_queue_is_oldest_first_and_paginated(
    client, auth, trainer, course, assignment, count_queries
):
    learners = [UserFactory(name=f"Learner {i:02d}") for i in range(25)]
    for i, person in enumerate(learners):
        enrollment = EnrollmentFactory(user=person, course=course)
        result = assignments.submit_assignment(enrollment.id, assignment.id, person, "x")
        result.submitted_at = clock.now() - timedelta(hours=100 - i)
    db.session.commit()
    auth.login(trainer)

    with count_queries() as queries:
        first = client.get("/grading").get_data(as_text=True)
    second = client.get("/grading?page=2").get_data(as_text=True)

    assert first.index("Learner 00") < first.index("Learner 19")
    assert "Learner 20" not in first and "Learner 20" in second
    assert "25 waiting" in first
    assert len(queries) < 12  # users, modules and courses joined, not loaded per row


def test_the_queue_fragment_for_htmx(client, auth, trainer):
    auth.login(trainer)
    body = client.get("/grading", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in body and "Nothing to grade" in body


@pytest.mark.parametrize(
    "roles, status",
    [
        (["admin"], 200),
        (["trainer"], 200),
        (["employee"], 403),
        (["manager"], 403),
        (["hr"], 403),
        (["qa"], 403),
        (["seller"], 403),
    ],
)
def test_grading_queue_role_matrix(client, auth, learner, enrollment, assignment, roles, status):
    result = assignments.submit_assignment(enrollment.id, assignment.id, learner, "Answer")
    auth.login(UserFactory(roles=roles))

    assert client.get("/grading").status_code == status
    assert client.get(f"/grading/{result.id}").status_code == status
    token = csrf(client, "/home")
    resp = client.post(f"/grading/{result.id}", data={"csrf_token": token, "score-0": "6"})
    assert resp.status_code == (422 if status == 200 else 403)
    assert _submissions(enrollment)[0].status == "submitted"


def test_the_grading_queue_needs_a_login(client):
    resp = client.get("/grading")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_trainers_cannot_grade_their_own_submission(app, trainer, course, assignment):
    from app.platform.errors import Conflict

    enrollment = EnrollmentFactory(user=trainer, course=course)
    result = assignments.submit_assignment(enrollment.id, assignment.id, trainer, "Mine")
    with pytest.raises(Conflict):
        assignments.grade_assignment(result.id, {"0": "6", "1": "4"}, "", trainer)


def test_grading_is_signed_by_the_trainer(client, auth, learner, trainer, enrollment, assignment):
    from app.audit.signatures import manifestations_for

    result = assignments.submit_assignment(enrollment.id, assignment.id, learner, "Answer")
    auth.login(trainer)
    token = csrf(client, f"/grading/{result.id}")
    data = {"csrf_token": token, "score-0": "6", "score-1": "4", "signature_password": "nope"}
    resp = client.post(f"/grading/{result.id}", data=data)
    assert resp.status_code == 422 and "password is not correct" in resp.get_data(as_text=True)
    assert _submissions(enrollment)[0].status == "submitted"
    data["signature_password"] = "password"
    assert client.post(f"/grading/{result.id}", data=data).status_code == 302
    db.session.expire_all()
    (sig,) = manifestations_for("result", result.id)
    assert sig.printed_name == trainer.name and sig.meaning == "Trainer sign-off" and sig.valid
    auth.logout()
    auth.login(learner)
    panel = client.get(f"/learn/{enrollment.id}/{assignment.id}").get_data(as_text=True)
    assert f"<strong>{trainer.name}</strong> · Trainer sign-off" in panel
