"""Fixtures for the CoursePlayer tests: a learner enrolled in a course built per test."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.learning.models import Module
from app.platform import files
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.learning.factories import (
    CourseFactory,
    EnrollmentFactory,
    ModuleFactory,
    QuizQuestionFactory,
)
from tests.people.factories import UserFactory

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(40))

# One question of every kind, each with a distinctive answer and explanation to look for.
QUESTIONS = [
    {
        "kind": "single",
        "prompt": "Which gown goes on first?",
        "options": ["Overshoes", "Coverall", "Gloves"],
        "answer": {"correct": [1]},
        "points": 2,
        "explanation": "EXPLAIN-SINGLE coverall before gloves.",
    },
    {
        "kind": "multiple",
        "prompt": "Which are ALCOA principles?",
        "options": ["Attributable", "Legible", "Fast"],
        "answer": {"correct": [0, 1]},
        "points": 3,
        "explanation": "EXPLAIN-MULTIPLE speed is not one.",
    },
    {
        "kind": "true_false",
        "prompt": "A deviation must be documented.",
        "options": ["True", "False"],
        "answer": {"correct": True},
        "points": 1,
        "explanation": "EXPLAIN-TF always.",
    },
    {
        "kind": "numeric",
        "prompt": "Cleanroom temperature in degrees C?",
        "options": [],
        "answer": {"value": 21.75, "tolerance": 0.25},
        "points": 2,
        "explanation": "EXPLAIN-NUMERIC 21.75 plus or minus 0.25.",
    },
    {
        "kind": "short_text",
        "prompt": "Name the record of a change.",
        "options": [],
        "answer": {"accepted": ["Change Control Form"], "case_sensitive": False},
        "points": 2,
        "explanation": "EXPLAIN-SHORT it is the CCF.",
    },
]
CORRECT_FORM = {"single": "1", "multiple": ["0", "1"], "true_false": "true"}


def upload(data: bytes, filename: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename)


def audit_count(entity: str, reason: str | None = None) -> int:
    q = select(func.count()).select_from(AuditLog).where(AuditLog.entity == entity)
    if reason:
        q = q.where(AuditLog.reason == reason)
    return db.session.scalar(q)


def no_html_page(body: str) -> bool:
    return "<html" not in body and "<body" not in body


@pytest.fixture
def learner(app):
    return UserFactory(roles=["employee"], name="Lee Learner")


@pytest.fixture
def trainer(app):
    return UserFactory(roles=["trainer"], name="Tess Trainer")


@pytest.fixture
def course(app):
    return CourseFactory(passing_score=80, title="Cleanroom Basics")


@pytest.fixture
def enrollment(app, course, learner):
    return EnrollmentFactory(user=learner, course=course)


@pytest.fixture
def as_learner(client, auth, learner):
    """The learner signed in; returns a CSRF token for posts."""
    auth.login(learner)
    return csrf(client, "/home")


def add_module(course, kind: str, **kw) -> Module:
    position = (
        db.session.scalar(select(func.max(Module.position)).where(Module.course_id == course.id))
        or 0
    ) + 1
    if kind == "video" and "file" not in kw:
        kw["file"] = files.store_upload(upload(MP4, "intro.mp4"), "video")
    if kind == "document" and "file" not in kw:
        kw["file"] = files.store_upload(upload(PDF, "sop-101.pdf"), "document")
    kw.setdefault("title", f"{kind.title()} module")
    kw.setdefault("body", f"Body of the {kind} module.")
    return ModuleFactory(course=course, kind=kind, position=position, **kw)


def add_quiz(course, questions=QUESTIONS, **settings) -> Module:
    quiz = add_module(course, "quiz", settings=settings)
    for i, q in enumerate(questions):
        QuizQuestionFactory(module=quiz, position=i + 1, **q)
    db.session.expire(quiz)
    return quiz


def correct_answers(result) -> dict[str, list[str]]:
    """Form fields answering every question of an attempt correctly (shown option indexes)."""
    out = {}
    for q in result.questions:
        key = f"q-{q['id']}"
        if q["kind"] in ("single", "multiple"):
            shown = [str(q["order"].index(i)) for i in q["answer"]["correct"]]
            out[key] = shown
        elif q["kind"] == "true_false":
            out[key] = ["true" if q["answer"]["correct"] else "false"]
        elif q["kind"] == "numeric":
            out[key] = [str(q["answer"]["value"])]
        else:
            out[key] = [q["answer"]["accepted"][0]]
    return out


def module_url(enrollment, module, suffix: str = "") -> str:
    return f"/learn/{enrollment.id}/{module.id}{suffix}"


def attempt_id(body: str) -> int:
    m = re.search(r"/attempts/(\d+)", body)
    assert m, "no attempt form on the page"
    return int(m.group(1))
