"""Certificate forms: issue one by hand, revoke one, decide one pending approval."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from app.platform.web.forms import ServiceForm


def start_of_day(value: date | None) -> datetime | None:
    """A form date as midnight UTC."""
    return datetime.combine(value, time.min, UTC) if value else None


class IssueForm(ServiceForm):
    person = StringField("Person (email)")
    course_id = SelectField("Course", coerce=int, validate_choice=False)
    reason = TextAreaField("Reason (kept in the audit trail)")
    issued_on = DateField("Issued on (default: today)", validators=[Optional()])
    expires_on = DateField(
        "Expires on (default: from the course's validity)", validators=[Optional()]
    )

    ALIASES = {"user_id": "person", "issued_at": "issued_on", "expires_at": "expires_on"}


class RevokeForm(ServiceForm):
    reason = TextAreaField("Reason for revoking")


class DecisionForm(ServiceForm):
    """QA's decision on a back-dated manual certificate (the buttons say approve or reject)."""

    note = TextAreaField("Note (required to reject)")
