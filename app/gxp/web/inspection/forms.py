"""Inspection forms: they only shape the input; the services validate."""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField

from app.platform.web.forms import ServiceForm


class ExportForm(ServiceForm):
    person = StringField("Person (email)", render_kw={"autocomplete": "off"})
    department_id = SelectField("Department", choices=[], validate_choice=False)
    date_from = StringField("From", render_kw={"type": "date"})
    date_to = StringField("To", render_kw={"type": "date"})

    ALIASES = {"user_id": "person"}

    def to_data(self) -> dict[str, Any]:
        return {
            "person": self.person.data,
            "department_id": self.department_id.data,
            "date_from": self.date_from.data,
            "date_to": self.date_to.data,
        }


class ActionForm(ServiceForm):
    """A bare form for buttons (download, build): only the CSRF token."""


class ValidationEvidenceForm(ServiceForm):
    """The results of the release's test run; the service reads and checks them."""

    results = FileField("Test results (JUnit XML)", render_kw={"accept": ".xml,application/xml"})
    use_server_results = BooleanField("Use this server's own last test results instead")
