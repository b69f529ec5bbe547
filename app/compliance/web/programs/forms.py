"""Program forms: they only shape the input; app.compliance.programs validates."""

from __future__ import annotations

from typing import Any

from wtforms import SelectField, StringField, TextAreaField

from app.compliance.models import CURRICULUM_STATUSES
from app.compliance.programs import PROGRAM_FIELDS
from app.platform.web.forms import ServiceForm


class ProgramForm(ServiceForm):
    code = StringField("Code")
    title = StringField("Title")
    description = TextAreaField("Description", render_kw={"rows": 3})
    validity_months = StringField(
        "Valid for (months)", render_kw={"type": "number", "min": 1, "max": 240}
    )
    status = SelectField(
        "Status",
        choices=[(s, s.title()) for s in CURRICULUM_STATUSES],
        default="active",
        validate_choice=False,
    )

    def to_data(self) -> dict[str, Any]:
        return {name: self[name].data for name in PROGRAM_FIELDS}


class AddCourseForm(ServiceForm):
    course_id = SelectField("Add a course", choices=[], validate_choice=False)

    ALIASES = {"course_ids": "course_id"}


class ActionForm(ServiceForm):
    """A bare form for buttons (move, remove, delete): only the CSRF token."""
