"""Enrolment forms: assign a course to one person or a whole team."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField
from wtforms.validators import AnyOf, Optional


class AssignForm(FlaskForm):
    """One form for both targets; `target` says which select counts."""

    target = HiddenField(validators=[AnyOf(["person", "team"])])
    user_id = SelectField("Person", coerce=int, validate_choice=False, validators=[Optional()])
    team_id = SelectField("Team", coerce=int, validate_choice=False, validators=[Optional()])
    due_date = DateField("Due date", validators=[Optional()])

    def apply_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            field = getattr(self, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = list(field.errors) + list(messages)
            else:
                self.form_errors.extend(messages)
