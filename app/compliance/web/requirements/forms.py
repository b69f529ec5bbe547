"""Competency matrix forms: they only shape the input; app.compliance.requirements validates."""

from __future__ import annotations

import calendar
from typing import Any

from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField

from app.compliance.models import DUE_BASES, RECERT_MODES
from app.compliance.requirements import INPUT_FIELDS, requirement_snapshot
from app.people.models import RISK_LEVELS
from app.platform.web.forms import ServiceForm

DUE_BASIS_LABELS = {"hire": "Days after hire", "assignment": "Days after assignment"}
MODE_LABELS = {
    "relative": "Relative (N months from completion)",
    "calendar": "Calendar (fixed month)",
}
MONTHS = tuple(calendar.month_name)[1:]


def _select(label: str, choices: list | None = None):
    """A menu the service validates (so a missing or odd value becomes a field error there)."""
    return SelectField(label, choices=choices or [], validate_choice=False)


def _number(label: str, **attrs):
    return StringField(label, render_kw={"type": "number", "inputmode": "numeric", **attrs})


def _date(label: str):
    return StringField(label, render_kw={"type": "date"})


class RequirementForm(ServiceForm):
    job_role_id = _select("Job role")
    department_id = _select("Department")
    team_id = _select("Team")
    course_id = _select("Course")
    curriculum_id = _select("Program")
    substitutes = SelectMultipleField("Substitute courses", choices=[], validate_choice=False)
    due_days = _number("Due within (days)", min=0)
    due_basis = _select("Counted from", choices=[(b, DUE_BASIS_LABELS[b]) for b in DUE_BASES])
    recert_months = _number("Recertify every (months)", min=1, max=120)
    recert_mode = _select("Recertification", choices=[(m, MODE_LABELS[m]) for m in RECERT_MODES])
    recert_anchor_month = _select(
        "Calendar month",
        choices=[("", "—"), *[(str(i), name) for i, name in enumerate(MONTHS, start=1)]],
    )
    recert_window_days = _number("Renewal window (days)", min=0)
    grace_days = _number("Grace (days)", min=0)
    risk_level = _select("Risk", choices=[(r, r.title()) for r in RISK_LEVELS])
    effective_from = _date("Effective from")
    effective_to = _date("Effective to")
    notes = TextAreaField("Notes", render_kw={"rows": 2})
    # Asked on edits only: why an existing matrix row is corrected (kept in the audit trail).
    reason = TextAreaField("Reason for the change", render_kw={"rows": 2})

    # Service errors about the whole scope or target land on the first menu of each.
    ALIASES = {"scope": "job_role_id", "target": "course_id"}

    def fill(self, scopes: dict, targets: dict) -> RequirementForm:
        none = [("", "—")]
        self.job_role_id.choices = none + [(str(i), n) for i, n in scopes["job_role"]]
        self.department_id.choices = none + [(str(i), n) for i, n in scopes["department"]]
        self.team_id.choices = none + [(str(i), n) for i, n in scopes["team"]]
        self.course_id.choices = none + [(str(i), n) for i, n in targets["course"]]
        self.curriculum_id.choices = none + [(str(i), n) for i, n in targets["program"]]
        self.substitutes.choices = [(str(i), n) for i, n in targets["course"]]
        return self

    def to_data(self) -> dict[str, Any]:
        return {name: self[name].data for name in INPUT_FIELDS}

    @classmethod
    def for_requirement(cls, req, **kwargs) -> RequirementForm:
        snap = requirement_snapshot(req)
        data = {k: ("" if v is None else str(v)) for k, v in snap.items()}
        data["substitutes"] = [str(c) for c in snap["substitutes"]]
        return cls(data=data, **kwargs)


class EndForm(ServiceForm):
    effective_to = _date("Last day it applies")


class ActionForm(ServiceForm):
    """A bare form for buttons (delete): only the CSRF token."""
