"""Waiver forms: they only shape the input; app.compliance.waivers validates."""

from __future__ import annotations

from typing import Any

from wtforms import SelectField, StringField, TextAreaField

from app.platform.web.forms import ServiceForm


class RequestForm(ServiceForm):
    person = StringField("Person (email)")
    requirement_id = SelectField("Requirement", choices=[], validate_choice=False)
    reason = TextAreaField("Reason (kept in the training record)", render_kw={"rows": 3})
    starts_on = StringField("Starts on", render_kw={"type": "date"})
    ends_on = StringField("Ends on (at most two years later)", render_kw={"type": "date"})

    ALIASES = {"user_id": "person"}

    def to_data(self) -> dict[str, Any]:
        return {
            "person": self.person.data,
            "requirement_id": self.requirement_id.data,
            "reason": self.reason.data,
            "starts_on": self.starts_on.data,
            "ends_on": self.ends_on.data,
        }


class DecisionForm(ServiceForm):
    note = TextAreaField("Decision note (required to reject)", render_kw={"rows": 2})
