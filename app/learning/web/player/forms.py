"""Player forms: assignment submission and the trainer's grading comment."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import TextAreaField


class ServiceErrorsMixin:
    """Put a service's Invalid errors on the matching fields (others on the form)."""

    def apply_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            field = getattr(self, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = list(field.errors) + list(messages)
            else:
                self.form_errors.extend(messages)


class AssignmentForm(ServiceErrorsMixin, FlaskForm):
    text = TextAreaField("Your answer")
    file = FileField("Attach a PDF (optional, at most 50 MB)")


class GradeForm(ServiceErrorsMixin, FlaskForm):
    comment = TextAreaField("Comment for the learner")


class SopForm(FlaskForm):
    """The read-and-understood signature; the password field comes from _signature.html."""
