"""Authoring forms: course fields, modules, quiz questions."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from app.learning.courses import COURSE_FIELDS
from app.learning.models import (
    COURSE_LEVELS,
    DEFAULT_ATTEMPT_LIMIT,
    MODULE_KINDS,
    QUESTION_KINDS,
    QUIZ_REVEAL,
)
from app.learning.modules import quiz_policy
from app.platform.web.forms import ServiceForm

# What learners (and the catalog) call each module kind.
KIND_LABELS = {
    "text": "Reading",
    "video": "Video",
    "document": "Document",
    "quiz": "Quiz",
    "assignment": "Assignment",
    "scenario": "Scenario",
    "sop": "Read and understand (SOP)",
}
# The format behind a kind, for authors only (the kind picker and the module editor).
KIND_HINTS = {
    "text": "markdown text",
    "video": "MP4 or WebM file",
    "document": "PDF file",
    "quiz": "questions, graded automatically",
    "assignment": "text or PDF, graded by a trainer",
    "scenario": "simulated task",
    "sop": "signed with an e-signature",
}
REVEAL_LABELS = {
    "after_pass": "After the learner passes",
    "after_last_attempt": "After the learner passes or has used the last attempt",
    "never": "Never",
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


QUIZ_FIELDS = (
    "reveal_answers",
    "attempt_limit",
    "retry_wait_minutes",
    "time_limit_minutes",
    "pool_size",
    "pool_per_topic",
    "shuffle",
)


class ModuleForm(ServiceForm):
    title = StringField("Title")
    body = TextAreaField("Body (markdown)")
    required = BooleanField("Required to complete the course", default=True)
    estimated_minutes = IntegerField("Estimated minutes", default=10, validators=[Optional()])
    file = FileField("File (video: MP4/WebM up to 500 MB; document: PDF up to 50 MB)")
    reveal_answers = SelectField(
        "Show the correct answers",
        choices=[(k, REVEAL_LABELS[k]) for k in QUIZ_REVEAL],
        default="after_pass",
    )
    attempt_limit = IntegerField(
        "Attempts allowed", default=DEFAULT_ATTEMPT_LIMIT, validators=[Optional()]
    )
    retry_wait_minutes = IntegerField(
        "Wait between attempts (minutes)", default=0, validators=[Optional()]
    )
    time_limit_minutes = IntegerField("Time limit, minutes (blank = none)", validators=[Optional()])
    pool_size = IntegerField("Questions drawn per attempt (blank = all)", validators=[Optional()])
    pool_per_topic = BooleanField("Draw that many from each topic")
    shuffle = BooleanField("Shuffle questions and options")

    FIELDS = ("title", "body", "required", "estimated_minutes", *QUIZ_FIELDS)

    def to_data(self) -> dict[str, Any]:
        return {name: getattr(self, name).data for name in self.FIELDS}

    @classmethod
    def for_module(cls, module, use_request: bool = True) -> ModuleForm:
        """Prefill from the module; `use_request=False` ignores a POST meant for another form."""
        form = cls(obj=module) if use_request else cls(formdata=None, obj=module)
        if module.kind == "quiz" and (not use_request or not form.is_submitted()):
            policy = quiz_policy(module)
            for name in QUIZ_FIELDS:
                getattr(form, name).data = getattr(policy, name)
            form.attempt_limit.data = policy.attempt_limit or 0
        return form


class NewModuleForm(ModuleForm):
    kind = SelectField(
        "Kind", choices=[(k, f"{KIND_LABELS[k]} ({KIND_HINTS[k]})") for k in MODULE_KINDS]
    )

    FIELDS = ("kind", *ModuleForm.FIELDS)


def _lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


CHOICE_KINDS = ("single", "multiple")
MAX_OPTIONS = 20


class QuestionForm(ServiceForm):
    """One question of one type: only that type's fields are shown and read.

    Choice options are numbered rows (`option-0`, `option-1` ...) each with its own "correct"
    radio (single) or checkbox (multiple), so the author clicks the right option(s); blank rows
    are dropped and the marks follow their options.
    """

    kind = HiddenField()
    prompt = TextAreaField("Question")
    points = IntegerField("Points", default=1, validators=[Optional()])
    topic = StringField("Topic (for pools and coaching)")
    explanation = TextAreaField("Explanation (shown when the answers are revealed)")
    tf_correct = RadioField(
        "The statement is", choices=[("true", "True"), ("false", "False")], validate_choice=False
    )
    value = StringField("Correct answer (a number)")
    tolerance = StringField("Accepted difference (±)", default="0")
    accepted = TextAreaField("Accepted answers (one per line)")
    case_sensitive = BooleanField("Upper and lower case must match")

    def __init__(self, *args, question_kind: str = "single", question=None, **kwargs):
        super().__init__(*args, **kwargs)
        posted = kwargs.get("formdata", True) is not None and self.is_submitted()
        self.question_kind = question.kind if question is not None else question_kind
        if self.question_kind not in QUESTION_KINDS:
            self.question_kind = "single"
        self.kind.data = self.question_kind
        self.choice_errors: list[str] = []
        if posted:
            self.rows = self._posted_rows()
        elif question is not None:
            self.rows = self._question_rows(question)
            self._prefill(question)
        else:
            self.rows = [("", False)] * 4

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if self.question_kind in CHOICE_KINDS and any(m and not t.strip() for t, m in self.rows):
            self.choice_errors.append("An option marked correct has no text.")
            ok = False
        return ok

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.choice_errors or self.form_errors)

    @property
    def label(self) -> str:
        return QUESTION_LABELS[self.question_kind]

    @property
    def blank_rows(self) -> int:
        """Spare option rows, so more options can be added without JavaScript."""
        return max(0, min(MAX_OPTIONS, max(4, len(self.rows) + 2)) - len(self.rows))

    def _posted_rows(self) -> list[tuple[str, bool]]:
        form = request.form
        marked = set(form.getlist("correct"))
        rows = [
            (form.get(f"option-{i}", ""), str(i) in marked)
            for i in range(MAX_OPTIONS)
            if f"option-{i}" in form
        ]
        while rows and not rows[-1][0].strip() and not rows[-1][1]:
            rows.pop()
        return rows

    @staticmethod
    def _question_rows(question) -> list[tuple[str, bool]]:
        if question.kind not in CHOICE_KINDS:
            return [("", False)] * 4
        correct = set((question.answer or {}).get("correct") or [])
        return [(text, i in correct) for i, text in enumerate(question.options or [])]

    def _prefill(self, question) -> None:
        answer = question.answer or {}
        if question.kind == "true_false":
            self.tf_correct.data = "true" if answer.get("correct") else "false"
        elif question.kind == "numeric":
            self.value.data = "" if answer.get("value") is None else f"{answer['value']:g}"
            self.tolerance.data = f"{answer.get('tolerance') or 0:g}"
        elif question.kind == "short_text":
            self.accepted.data = "\n".join(answer.get("accepted") or [])
            self.case_sensitive.data = bool(answer.get("case_sensitive"))

    def apply_errors(self, errors: dict[str, list[str]], aliases: dict[str, str] | None = None):
        """Put the service's answer/options errors where this type shows its answer."""
        errors = dict(errors)
        if self.question_kind in CHOICE_KINDS:
            for name in ("options", "answer"):
                self.choice_errors.extend(errors.pop(name, []))
        else:
            target = {"true_false": "tf_correct", "numeric": "value", "short_text": "accepted"}
            aliases = {"answer": target[self.question_kind], **(aliases or {})}
        super().apply_errors(errors, aliases)

    def to_data(self) -> dict[str, Any]:
        kind = self.question_kind
        options: list[str] = []
        answer: dict[str, Any] = {}
        if kind in CHOICE_KINDS:
            correct = []
            for text, marked in self.rows:
                if text.strip():
                    if marked:
                        correct.append(len(options))
                    options.append(text.strip())
            answer = {"correct": correct}
        elif kind == "true_false":
            answer = {"correct": self.tf_correct.data}
        elif kind == "numeric":
            answer = {"value": (self.value.data or "").strip(), "tolerance": self.tolerance.data}
            answer["tolerance"] = (answer["tolerance"] or "0").strip() or "0"
        else:
            answer = {
                "accepted": _lines(self.accepted.data),
                "case_sensitive": bool(self.case_sensitive.data),
            }
        return {
            "kind": kind,
            "prompt": self.prompt.data,
            "options": options,
            "answer": answer,
            "points": self.points.data if self.points.data is not None else 1,
            "explanation": self.explanation.data,
            "topic": self.topic.data,
        }


class GrantAttemptForm(ServiceForm):
    """A trainer allows one more attempt at a quiz; the reason goes into the audit trail."""

    reason = StringField("Reason (for the audit trail)")
