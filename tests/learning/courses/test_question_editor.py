"""The question editor: one form per question type, correct options picked by clicking them,
errors that keep what was typed, editing each type; and the quiz rules on the module form."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.learning import modules
from app.learning.models import Module, QuizQuestion
from app.platform.audit import AuditLog
from tests.learning.courses.conftest import count
from tests.learning.factories import CourseFactory

# Each type's own fields, by the names they post.
FIELDS = {
    "single": ['type="radio" name="correct"', 'name="option-0"'],
    "multiple": ['type="checkbox" name="correct"', 'name="option-0"'],
    "true_false": ['name="tf_correct"'],
    "numeric": ['name="value"', 'name="tolerance"'],
    "short_text": ['name="accepted"', 'name="case_sensitive"'],
}


@pytest.fixture
def quiz(app, trainer):
    course = CourseFactory(status="draft")
    return modules.add_module(course.id, {"kind": "quiz", "title": "Check"}, trainer)


def _form(body: str) -> str:
    return body.split('id="question-form"')[1].split("</form>")[0]


@pytest.mark.parametrize("kind", list(FIELDS))
def test_each_type_shows_only_its_own_fields(client, as_trainer, quiz, kind):
    body = client.get(f"/authoring/modules/{quiz.id}/questions/new?kind={kind}").get_data(
        as_text=True
    )
    form = _form(body)
    for other, names in FIELDS.items():
        for name in names:
            if other == kind:
                assert name in form, (kind, name)
            elif name not in FIELDS[kind] and not (
                {kind, other} == {"single", "multiple"} and "option-0" in name
            ):
                assert name not in form, (kind, name)
    assert f'name="kind" type="hidden" value="{kind}"' in form
    assert "Correct option number" not in body  # no typing option numbers any more
    assert re.search(rf'aria-current="true">[^<]*{_label(kind)}', body)


def _label(kind: str) -> str:
    return {
        "single": "Single choice",
        "multiple": "Multiple choice",
        "true_false": "True / false",
        "numeric": "Numeric",
        "short_text": "Short text",
    }[kind]


def test_the_edit_page_starts_with_single_choice_and_htmx_swaps_only_the_editor(
    client, as_trainer, quiz
):
    page = client.get(f"/authoring/modules/{quiz.id}/edit").get_data(as_text=True)
    assert "Add single choice question" in page and 'type="radio" name="correct"' in page
    assert f'href="/authoring/modules/{quiz.id}/questions/new?kind=numeric#question-editor"' in page

    frag = client.get(
        f"/authoring/modules/{quiz.id}/questions/new?kind=numeric", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in frag and frag.lstrip().startswith('<div id="question-editor"')
    assert 'name="value"' in frag and 'name="correct"' not in frag


def _post(client, token, quiz, kind, **fields):
    data = {"csrf_token": token, "kind": kind, "prompt": f"A {kind} question?", "points": "2"}
    data.update(fields)
    return client.post(f"/authoring/modules/{quiz.id}/questions", data=data)


CREATE = [
    (
        "single",
        {"option-0": "Overshoes", "option-1": "Coverall", "option-2": "", "correct": "1"},
        ["Overshoes", "Coverall"],
        {"correct": [1]},
    ),
    (
        "multiple",
        {"option-0": "Gloves", "option-1": "", "option-2": "Goggles", "correct": ["0", "2"]},
        ["Gloves", "Goggles"],  # the blank row is dropped and the marks follow their options
        {"correct": [0, 1]},
    ),
    ("true_false", {"tf_correct": "false"}, ["True", "False"], {"correct": False}),
    (
        "numeric",
        {"value": "21.75", "tolerance": "0.25"},
        [],
        {"value": 21.75, "tolerance": 0.25},
    ),
    (
        "short_text",
        {"accepted": "CCF\nChange control form", "case_sensitive": "y"},
        [],
        {"accepted": ["CCF", "Change control form"], "case_sensitive": True},
    ),
]


@pytest.mark.parametrize("kind, fields, options, answer", CREATE)
def test_each_type_is_created_through_its_form(
    client, as_trainer, quiz, kind, fields, options, answer
):
    resp = _post(client, as_trainer, quiz, kind, **fields)

    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert f"kind={kind}" in resp.headers["Location"]  # the next question starts as the same type
    question = db.session.scalars(select(QuizQuestion)).one()
    assert (question.kind, question.options, question.answer, question.points) == (
        kind,
        options,
        answer,
        2,
    )


@pytest.mark.parametrize(
    "kind, fields, message, kept",
    [
        ("single", {"option-0": "Gloves", "option-1": "Coffee"}, "Mark exactly one", "Coffee"),
        ("multiple", {"option-0": "Gloves", "option-1": ""}, "Give between 2 and 20", "Gloves"),
        (
            "multiple",
            {"option-0": "Gloves", "option-1": "Mask", "option-2": "", "correct": ["2"]},
            "An option marked correct has no text.",
            "Mask",
        ),
        ("true_false", {}, "Say whether the statement is true or false.", "true_false question"),
        ("numeric", {"value": "twenty", "tolerance": "1"}, "Must be a number.", 'value="twenty"'),
        ("short_text", {"accepted": "  "}, "Give at least one accepted answer.", "short_text q"),
    ],
)
def test_errors_rerender_the_same_type_with_what_was_typed(
    client, as_trainer, quiz, kind, fields, message, kept
):
    resp = _post(client, as_trainer, quiz, kind, topic="ppe", **fields)

    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert message in body and "The question was not added" in body
    form = _form(body)
    assert f'value="{kind}"' in form and kept in form
    assert 'value="ppe"' in form and f"A {kind} question?" in form
    assert count(QuizQuestion) == 0


def test_a_correct_mark_survives_an_error_elsewhere(client, as_trainer, quiz):
    resp = _post(
        client,
        as_trainer,
        quiz,
        "single",
        prompt="",
        **{"option-0": "A", "option-1": "B"},
        correct="1",
    )
    form = _form(resp.get_data(as_text=True))
    assert resp.status_code == 422
    assert re.search(r'type="radio" name="correct" value="1" checked', form)
    assert not re.search(r'name="correct" value="0" checked', form)


EDIT = [
    (
        "single",
        {"option-0": "A", "option-1": "B", "option-2": "C", "correct": "2"},
        {"correct": [2]},
    ),
    ("multiple", {"option-0": "A", "option-1": "B", "correct": ["1"]}, {"correct": [1]}),
    ("true_false", {"tf_correct": "true"}, {"correct": True}),
    ("numeric", {"value": "7", "tolerance": "0"}, {"value": 7.0, "tolerance": 0.0}),
    ("short_text", {"accepted": "GMP"}, {"accepted": ["GMP"], "case_sensitive": False}),
]
START = {
    "single": {"options": ["A", "B", "C"], "answer": {"correct": [0]}},
    "multiple": {"options": ["A", "B"], "answer": {"correct": [0, 1]}},
    "true_false": {"answer": {"correct": False}},
    "numeric": {"answer": {"value": 5, "tolerance": 0.5}},
    "short_text": {"answer": {"accepted": ["Good practice"]}},
}


@pytest.mark.parametrize("kind, fields, answer", EDIT)
def test_each_type_is_edited_through_its_form(
    client, as_trainer, trainer, quiz, kind, fields, answer
):
    question = modules.add_question(
        quiz.id, {"kind": kind, "prompt": "Old?", **START[kind]}, trainer
    )
    page = client.get(f"/authoring/questions/{question.id}/edit").get_data(as_text=True)
    form = _form(page)
    assert "Old?" in form and "Save question" in form
    if kind == "single":
        assert re.search(r'type="radio" name="correct" value="0" checked', form)
    if kind == "numeric":
        assert 'value="5"' in form and 'value="0.5"' in form
    for name in (n for k, names in FIELDS.items() if k != kind for n in names):
        if name not in FIELDS[kind] and "option-0" not in name:
            assert name not in form

    resp = client.post(
        f"/authoring/questions/{question.id}/edit",
        data={
            "csrf_token": as_trainer,
            "kind": "numeric",
            "prompt": "New?",
            "points": "3",
            **fields,
        },
    )

    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(QuizQuestion, question.id)
    assert (saved.kind, saved.prompt, saved.answer, saved.points, saved.version) == (
        kind,  # the type never changes through a posted "kind"
        "New?",
        answer,
        3,
        2,
    )
    row = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "quiz_question", AuditLog.action == "update")
    ).one()
    assert row.before["prompt"] == "Old?" and row.after["prompt"] == "New?"


def test_a_bad_edit_changes_nothing(client, as_trainer, trainer, quiz):
    question = modules.add_question(
        quiz.id, {"kind": "single", "prompt": "Old?", **START["single"]}, trainer
    )
    resp = client.post(
        f"/authoring/questions/{question.id}/edit",
        data={"csrf_token": as_trainer, "prompt": "New?", "option-0": "A", "option-1": "B"},
    )
    assert resp.status_code == 422
    assert "Mark exactly one option as correct." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(QuizQuestion, question.id).prompt == "Old?"


def test_the_module_form_sets_the_quiz_rules(client, as_trainer, quiz):
    page = client.get(f"/authoring/modules/{quiz.id}/edit").get_data(as_text=True)
    assert re.search(r'name="attempt_limit"[^>]*value="3"', page)
    assert re.search(r'<option selected value="after_pass">', page)

    resp = client.post(
        f"/authoring/modules/{quiz.id}/edit",
        data={
            "csrf_token": as_trainer,
            "title": "Check",
            "estimated_minutes": "10",
            "required": "y",
            "attempt_limit": "2",
            "retry_wait_minutes": "60",
            "reveal_answers": "never",
            "pool_size": "5",
            "pool_per_topic": "y",
        },
    )

    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.session.expire_all()
    policy = modules.quiz_policy(db.session.get(Module, quiz.id))
    assert (policy.attempt_limit, policy.retry_wait_minutes, policy.reveal_answers) == (
        2,
        60,
        "never",
    )
    assert (policy.pool_size, policy.pool_per_topic) == (5, True)


def test_learners_see_plain_kind_names(client, as_learner, trainer):
    course = CourseFactory(status="published")
    for kind in ("text", "video", "document", "sop"):
        db.session.add(
            Module(course=course, position=len(course.modules) + 1, kind=kind, title=kind)
        )
    db.session.commit()
    body = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "Reading" in body and "Read and understand (SOP)" in body
    assert "markdown" not in body.lower() and "MP4" not in body and "WebM" not in body
