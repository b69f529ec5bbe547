"""Forms of the admin pages; the services do the real validation, these only shape the input."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.people.models import RISK_LEVELS, ROLES, SELLER_TIERS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    hire_date = StringField("Hire date", validators=[Optional()], render_kw={"type": "date"})
    manager_email = EmailField("Manager's email", validators=[Optional(), Length(max=254)])
    department_id = SelectField("Department", choices=[], validate_choice=False)
    team_id = SelectField("Team", choices=[], validate_choice=False)
    job_role_id = SelectField("Job role", choices=[], validate_choice=False)
    locale = StringField("Language", default="en", validators=[Length(max=10)])
    timezone = SelectField("Time zone", choices=[], default="UTC", validate_choice=False)
    is_seller = BooleanField("Marketplace seller")
    shop_name = StringField("Shop name", validators=[Length(max=200)])
    seller_tier = SelectField(
        "Seller tier", choices=[("", "—")] + [(t, t.title()) for t in SELLER_TIERS]
    )
    password = PasswordField(
        "New password",
        validators=[Optional(), Length(max=200)],
        description="Set by you, the person must change it at first sign-in.",
        render_kw={"autocomplete": "new-password"},
    )
    roles = MultiCheckboxField("Roles", choices=[(r, r) for r in ROLES], default=["employee"])
    # Edits only: why the person's record is corrected (kept in the audit trail).
    change_reason = TextAreaField("Reason for the change", validators=[Length(max=2000)])

    def fill_choices(self, departments, teams, job_roles, timezones) -> None:
        """Set the menus from the organisation tables."""
        self.department_id.choices = [("", "—")] + [(str(d.id), d.name) for d in departments]
        self.team_id.choices = [("", "—")] + [
            (str(t.id), f"{t.department.name} / {t.name}") for t in teams
        ]
        self.job_role_id.choices = [("", "—")] + [
            (str(j.id), f"{j.name} ({j.risk_level} risk)") for j in job_roles
        ]
        self.timezone.choices = [(tz, tz) for tz in timezones]


class ReasonForm(FlaskForm):
    reason = TextAreaField("Reason", validators=[Length(max=2000)])


class RolesForm(FlaskForm):
    roles = MultiCheckboxField("Roles", choices=[(r, r) for r in ROLES])


class DepartmentForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    site = StringField("Site", validators=[Length(max=120)])


class TeamForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    department_id = SelectField("Department", choices=[], validate_choice=False)

    def fill_choices(self, departments) -> None:
        self.department_id.choices = [("", "—")] + [(str(d.id), d.name) for d in departments]


class JobRoleForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    risk_level = SelectField("Risk level", choices=[(r, r.title()) for r in RISK_LEVELS])
    description = TextAreaField("Description", validators=[Length(max=500)])


class DeleteForm(FlaskForm):
    """An empty form, for its CSRF token."""


class ImportUploadForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired("Choose a .csv file."), FileAllowed(["csv"], "Only .csv files.")],
    )


class ImportApplyForm(FlaskForm):
    csv_text = HiddenField(validators=[DataRequired()])
