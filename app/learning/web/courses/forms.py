"""Authoring forms: course fields, modules, quiz questions."""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional, ValidationError

from app.learning.courses import COURSE_FIELDS
from app.learning.models import COURSE_LEVELS, MODULE_KINDS, QUESTION_KINDS
from app.platform.web.forms import ServiceForm

KIND_LABELS = {
    "text": "Text (markdown)",
    "video": "Video (MP4 / WebM)",
    "document": "Document (PDF)",
    "quiz": "Quiz",
    "assignment": "Assignment",
    "scenario": "Scenario",
    "sop": "SOP read & understood",
}
QUESTION_LABELS = {
    "single": "Single choice",
    "multiple": "Multiple choice",
    "true_false": "True / false",
    "numeric": "Numeric",
    "short_text": "Short text",
}


class CourseForm(ServiceForm):
    code = StringField("Code")
    title = StringField("Title")
    summary = TextAreaField("Summary (markdown)")
    category = StringField("Category", default="General")
    tags = StringField("Tags (comma-separated)")
    level = SelectField("Level", choices=[(v, v.title()) for v in COURSE_LEVELS])
    language = StringField("Language", default="en")
    estimated_minutes = IntegerField("Estimated minutes", default=30, validators=[Optional()])
    passing_score = IntegerField("Passing score (%)", default=80, validators=[Optional()])
    validity_months = IntegerField("Valid for (months)", validators=[Optional()])
    mandatory = BooleanField("Mandatory")
    is_onboarding = BooleanField("Part of onboarding")
    self_enroll = BooleanField("Learners may enrol themselves", default=True)
    cover = FileField("Cover image (PNG, JPEG or WebP, at most 5 MB)")

    FIELDS = COURSE_FIELDS

    def to_data(self) -> dict[str, Any]:
        return {name: getattr(self, name).data for name in self.FIELDS}

    @classmethod
    def for_course(cls, course) -> CourseForm:
        form = cls(obj=course)
        if not form.is_submitted():
            form.tags.data = ", ".join(course.tag_list)
        return form


class ModuleForm(ServiceForm):
    title = StringField("Title")
    body = TextAreaField("Body (markdown)")
    required = BooleanField("Required to complete the course", default=True)
    estimated_minutes = IntegerField("Estimated minutes", default=10, validators=[Optional()])
    file = FileField("File (video: MP4/WebM up to 500 MB; document: PDF up to 50 MB)")
    attempt_limit = IntegerField("Attempt limit (blank = unlimited)", validators=[Optional()])
    time_limit_minutes = IntegerField("Time limit, minutes (blank = none)", validators=[Optional()])
    shuffle = BooleanField("Shuffle questions")
    pool_size = IntegerField("Questions drawn per attempt (blank = all)", validators=[Optional()])

    FIELDS = (
        "title",
        "body",
        "required",
        "estimated_minutes",
        "attempt_limit",
        "time_limit_minutes",
        "shuffle",
        "pool_size",
    )

    def to_data(self) -> dict[str, Any]:
        return {name: getattr(self, name).data for name in self.FIELDS}

    @classmethod
    def for_module(cls, module, use_request: bool = True) -> ModuleForm:
        """Prefill from the module; `use_request=False` ignores a POST meant for another form."""
        form = cls(obj=module) if use_request else cls(formdata=None, obj=module)
        if not use_request or not form.is_submitted():
            for name in ("attempt_limit", "time_limit_minutes", "shuffle", "pool_size"):
                getattr(form, name).data = (module.settings or {}).get(name)
        return form


class NewModuleForm(ModuleForm):
    kind = SelectField("Kind", choices=[(k, KIND_LABELS[k]) for k in MODULE_KINDS])

    FIELDS = ("kind", *ModuleForm.FIELDS)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class QuestionForm(ServiceForm):
    kind = SelectField("Question type", choices=[(k, QUESTION_LABELS[k]) for k in QUESTION_KINDS])
    prompt = TextAreaField("Question")
    options = TextAreaField("Options (one per line; choice questions)")
    correct = StringField("Correct option number(s), e.g. 2 or 1,3 — or true / false")
    value = StringField("Numeric answer")
    tolerance = StringField("Tolerance (±)")
    accepted = TextAreaField("Accepted answers (one per line; short text)")
    points = IntegerField("Points", default=1, validators=[Optional()])
    explanation = TextAreaField("Explanation shown after answering")
    topic = StringField("Topic (for coaching)")

    def validate_correct(self, field):
        if self.kind.data in ("single", "multiple"):
            tokens = [t.strip() for t in (field.data or "").split(",") if t.strip()]
            if not tokens or not all(t.isdigit() and int(t) >= 1 for t in tokens):
                raise ValidationError("Give option numbers, e.g. 2 or 1,3.")
        if self.kind.data == "true_false" and (field.data or "").strip().lower() not in (
            "true",
            "false",
        ):
            raise ValidationError("Write true or false.")

    def answer_field(self) -> str:
        """The form field that holds the answer for the chosen kind."""
        return {"numeric": "value", "short_text": "accepted"}.get(self.kind.data, "correct")

    def to_data(self) -> dict[str, Any]:
        kind = self.kind.data
        correct = (self.correct.data or "").strip()
        if kind in ("single", "multiple"):
            answer: dict[str, Any] = {
                "correct": [int(t) - 1 for t in correct.split(",") if t.strip().isdigit()]
            }
        elif kind == "true_false":
            answer = {"correct": correct.lower()}
        elif kind == "numeric":
            answer = {"value": self.value.data, "tolerance": self.tolerance.data or 0}
        else:
            answer = {"accepted": _lines(self.accepted.data)}
        return {
            "kind": kind,
            "prompt": self.prompt.data,
            "options": _lines(self.options.data),
            "answer": answer,
            "points": self.points.data if self.points.data is not None else 1,
            "explanation": self.explanation.data,
            "topic": self.topic.data,
        }
