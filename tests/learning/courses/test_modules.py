"""Module and quiz-question services: order, validation, version bumps, audit rows."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.learning import courses, modules
from app.learning.models import Course, Module
from app.platform.audit import AuditLog
from app.platform.errors import Conflict, Invalid
from app.platform.files import StoredFile
from app.platform.storage import get_storage
from tests.learning.courses.conftest import MP4, PDF, PNG, audit_count, count, upload
from tests.learning.factories import CourseFactory


def _course(status="draft", version=1) -> Course:
    return CourseFactory(status=status, version=version)


def _text(title: str) -> dict:
    return {"kind": "text", "title": title, "body": f"About {title}"}


def _order(course_id: int) -> list[tuple[int, str]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(Module.position, Module.title)
        .where(Module.course_id == course_id)
        .order_by(Module.position)
    )
    return [tuple(r) for r in rows]


def _version(course_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Course, course_id).version


def test_add_move_delete_keep_positions_contiguous(app, trainer):
    course = _course()
    ids = [modules.add_module(course.id, _text(t), trainer).id for t in "ABCD"]
    assert _order(course.id) == [(1, "A"), (2, "B"), (3, "C"), (4, "D")]

    modules.move_module(ids[3], "up", trainer)  # D above C
    modules.move_module(ids[0], "down", trainer)  # A below B
    assert _order(course.id) == [(1, "B"), (2, "A"), (3, "D"), (4, "C")]

    modules.delete_module(ids[0], trainer)  # A, in the middle
    assert _order(course.id) == [(1, "B"), (2, "D"), (3, "C")]

    modules.delete_module(ids[1], trainer)  # B, the first
    modules.add_module(course.id, _text("E"), trainer)
    assert _order(course.id) == [(1, "D"), (2, "C"), (3, "E")]


def test_moving_past_either_end_changes_nothing(app, trainer):
    course = _course()
    first = modules.add_module(course.id, _text("A"), trainer).id
    last = modules.add_module(course.id, _text("B"), trainer).id
    before = audit_count("module")

    modules.move_module(first, "up", trainer)
    modules.move_module(last, "down", trainer)

    assert _order(course.id) == [(1, "A"), (2, "B")]
    assert audit_count("module") == before


def test_unknown_direction_is_invalid(app, trainer):
    module_id = modules.add_module(_course().id, _text("A"), trainer).id
    with pytest.raises(Invalid):
        modules.move_module(module_id, "sideways", trainer)


def test_module_changes_bump_a_published_course_version(app, trainer):
    course = _course()
    a = modules.add_module(course.id, _text("A"), trainer).id
    courses.publish_course(course.id, trainer)
    assert _version(course.id) == 1

    b = modules.add_module(course.id, _text("B"), trainer).id
    assert _version(course.id) == 2
    modules.update_module(a, {"title": "A, revised"}, trainer)
    assert _version(course.id) == 3
    modules.move_module(b, "up", trainer)
    assert _version(course.id) == 4
    modules.delete_module(a, trainer)
    assert _version(course.id) == 5
    modules.update_module(b, {"title": "B"}, trainer)  # no real change
    assert _version(course.id) == 5


def test_module_changes_leave_a_draft_at_version_one(app, trainer):
    course = _course()
    a = modules.add_module(course.id, _text("A"), trainer).id
    modules.add_module(course.id, _text("B"), trainer)
    modules.update_module(a, {"title": "A2"}, trainer)
    modules.move_module(a, "down", trainer)
    modules.delete_module(a, trainer)
    assert _version(course.id) == 1


def test_course_edits_bump_published_version_only(app, trainer):
    draft = _course()
    courses.save_course(draft.id, {"title": "Draft renamed"}, trainer)
    assert _version(draft.id) == 1

    live = _course(status="published")
    courses.save_course(live.id, {"title": "Live renamed"}, trainer)
    assert _version(live.id) == 2


def test_video_and_document_modules_need_a_file(app, trainer):
    course = _course()
    for kind in ("video", "document"):
        with pytest.raises(Invalid) as exc:
            modules.add_module(course.id, {"kind": kind, "title": "No file"}, trainer)
        assert exc.value.errors["file"] == [f"A {kind} module needs a file."]
    assert count(Module) == 0


def test_document_module_stores_its_file_and_keeps_it_on_edit(app, trainer):
    course = _course()
    module = modules.add_module(
        course.id, {"kind": "document", "title": "SOP"}, trainer, upload=upload(PDF, "sop.pdf")
    )
    assert get_storage().get(module.file.key) == PDF
    assert audit_count("file", "create") == 1

    # Editing without a new upload keeps the attached file.
    edited = modules.update_module(module.id, {"title": "SOP v2"}, trainer)
    assert edited.file_id is not None and edited.title == "SOP v2"

    # A video module refuses a PDF even with a video-looking name check first by extension.
    with pytest.raises(Invalid) as exc:
        modules.add_module(
            course.id, {"kind": "video", "title": "V"}, trainer, upload=upload(PDF, "v.mp4")
        )
    assert "not a real .mp4" in exc.value.errors["file"][0]


def test_replacing_a_video_file(app, trainer):
    course = _course()
    module = modules.add_module(
        course.id, {"kind": "video", "title": "V"}, trainer, upload=upload(MP4, "a.mp4")
    )
    old = module.file_id
    replaced = modules.update_module(module.id, {}, trainer, upload=upload(MP4 + b"more", "b.mp4"))
    assert replaced.file_id != old
    assert count(StoredFile) == 2


def test_bad_module_input_reports_every_field_and_writes_nothing(app, trainer):
    course = _course()
    with pytest.raises(Invalid) as exc:
        modules.add_module(
            course.id,
            {"kind": "text", "title": "", "body": " ", "estimated_minutes": "x"},
            trainer,
            upload=upload(PNG, "pic.png"),
        )
    assert set(exc.value.errors) == {"title", "body", "estimated_minutes", "file"}
    assert count(Module) == 0 and count(StoredFile) == 0 and audit_count() == 0

    with pytest.raises(Invalid) as exc:
        modules.add_module(course.id, {"kind": "podcast", "title": "P"}, trainer)
    assert "kind" in exc.value.errors


def test_kind_cannot_change(app, trainer):
    module = modules.add_module(_course().id, _text("A"), trainer)
    with pytest.raises(Invalid) as exc:
        modules.update_module(module.id, {"kind": "quiz"}, trainer)
    assert "kind" in exc.value.errors


def test_every_kind_can_be_created(app, trainer):
    course = _course()
    for kind in ("text", "quiz", "assignment", "scenario", "sop"):
        modules.add_module(course.id, {"kind": kind, "title": kind, "body": "Do it"}, trainer)
    modules.add_module(
        course.id, {"kind": "video", "title": "v"}, trainer, upload=upload(MP4, "v.mp4")
    )
    modules.add_module(
        course.id, {"kind": "document", "title": "d"}, trainer, upload=upload(PDF, "d.pdf")
    )
    kinds = set(db.session.scalars(select(Module.kind)))
    assert kinds == {"text", "video", "document", "quiz", "assignment", "scenario", "sop"}


def test_quiz_settings_are_kept(app, trainer):
    course = _course()
    quiz = modules.add_module(
        course.id,
        {"kind": "quiz", "title": "Check", "attempt_limit": "4", "shuffle": True},
        trainer,
    )
    assert quiz.settings == {
        "reveal_answers": "after_pass",
        "attempt_limit": 4,
        "retry_wait_minutes": 0,
        "time_limit_minutes": None,
        "shuffle": True,
        "pool_size": None,
        "pool_per_topic": False,
    }
    modules.update_module(quiz.id, {"time_limit_minutes": 20, "pool_size": 5}, trainer)
    db.session.expire_all()
    settings = db.session.get(Module, quiz.id).settings
    assert settings["time_limit_minutes"] == 20 and settings["attempt_limit"] == 4

    modules.update_module(quiz.id, {"attempt_limit": 0}, trainer)  # unlimited, chosen
    db.session.expire_all()
    assert modules.quiz_policy(db.session.get(Module, quiz.id)).attempt_limit is None
    for bad in (
        {"attempt_limit": -1},
        {"reveal_answers": "sometimes"},
        {"retry_wait_minutes": "x"},
    ):
        with pytest.raises(Invalid) as exc:
            modules.update_module(quiz.id, bad, trainer)
        assert set(exc.value.errors) == set(bad)


def test_module_audit_rows(app, trainer):
    course = _course()
    module = modules.add_module(course.id, _text("A"), trainer)
    other = modules.add_module(course.id, _text("B"), trainer)
    modules.update_module(module.id, {"title": "A2"}, trainer)
    modules.move_module(other.id, "up", trainer)
    modules.delete_module(module.id, trainer)

    rows = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "module").order_by(AuditLog.id)
    ).all()
    assert [(r.action, r.entity_id) for r in rows] == [
        ("create", str(module.id)),
        ("create", str(other.id)),
        ("update", str(module.id)),
        ("update", str(other.id)),
        ("delete", str(module.id)),
    ]
    assert rows[2].before["title"] == "A" and rows[2].after["title"] == "A2"
    assert rows[3].before == {"position": 2} and rows[3].after["position"] == 1
    assert rows[4].before["title"] == "A2" and rows[4].after is None
    assert all(r.actor_id == trainer.id for r in rows)


# --- quiz questions ---------------------------------------------------------------------


@pytest.fixture
def quiz(app, trainer):
    return modules.add_module(_course().id, {"kind": "quiz", "title": "Q"}, trainer)


@pytest.mark.parametrize(
    "data, options, answer",
    [
        (
            {"kind": "single", "options": ["a", "b", "c"], "answer": {"correct": [1]}},
            ["a", "b", "c"],
            {"correct": [1]},
        ),
        (
            {"kind": "multiple", "options": ["a", "b", "c"], "answer": {"correct": [2, 0]}},
            ["a", "b", "c"],
            {"correct": [0, 2]},
        ),
        (
            {"kind": "true_false", "answer": {"correct": "false"}},
            ["True", "False"],
            {"correct": False},
        ),
        (
            {"kind": "numeric", "answer": {"value": "7.5", "tolerance": "0.5"}},
            [],
            {"value": 7.5, "tolerance": 0.5},
        ),
        (
            {
                "kind": "short_text",
                "answer": {"accepted": ["GMP", " good manufacturing practice "]},
            },
            [],
            {"accepted": ["GMP", "good manufacturing practice"], "case_sensitive": False},
        ),
    ],
)
def test_each_question_kind_is_stored(app, trainer, quiz, data, options, answer):
    question = modules.add_question(quiz.id, {"prompt": "Why?", "points": 2, **data}, trainer)
    assert (question.options, question.answer, question.points) == (options, answer, 2)


@pytest.mark.parametrize(
    "data, field",
    [
        ({"kind": "single", "options": ["a", "b"], "answer": {"correct": [0, 1]}}, "answer"),
        ({"kind": "single", "options": ["a"], "answer": {"correct": [0]}}, "options"),
        ({"kind": "multiple", "options": ["a", "b"], "answer": {"correct": [5]}}, "answer"),
        ({"kind": "multiple", "options": ["a", "b"], "answer": {"correct": []}}, "answer"),
        ({"kind": "true_false", "answer": {"correct": "maybe"}}, "answer"),
        ({"kind": "numeric", "answer": {"value": "seven"}}, "answer"),
        ({"kind": "numeric", "answer": {"value": 1, "tolerance": -1}}, "tolerance"),
        ({"kind": "short_text", "answer": {"accepted": [" "]}}, "answer"),
        ({"kind": "essay"}, "kind"),
        (
            {"kind": "single", "prompt": "", "options": ["a", "b"], "answer": {"correct": [0]}},
            "prompt",
        ),
        ({"kind": "true_false", "answer": {"correct": True}, "points": 0}, "points"),
    ],
)
def test_bad_questions_are_refused(app, trainer, quiz, data, field):
    with pytest.raises(Invalid) as exc:
        modules.add_question(quiz.id, {"prompt": "Why?", **data}, trainer)
    assert field in exc.value.errors
    assert audit_count("quiz_question") == 0


def test_questions_only_on_quiz_modules(app, trainer):
    text = modules.add_module(_course().id, _text("A"), trainer)
    with pytest.raises(Conflict):
        modules.add_question(
            text.id, {"kind": "true_false", "prompt": "x", "answer": {"correct": True}}, trainer
        )


def test_question_changes_are_audited_and_bump_published_version(app, trainer, quiz):
    courses.publish_course(quiz.course_id, trainer)
    tf = {"kind": "true_false", "prompt": "Gloves on?", "answer": {"correct": True}}
    question = modules.add_question(quiz.id, tf, trainer)
    assert _version(quiz.course_id) == 2
    modules.delete_question(question.id, trainer)
    assert _version(quiz.course_id) == 3

    rows = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "quiz_question").order_by(AuditLog.id)
    ).all()
    assert [(r.action, r.entity_id) for r in rows] == [
        ("create", str(question.id)),
        ("delete", str(question.id)),
    ]
    assert rows[0].after["prompt"] == "Gloves on?"
