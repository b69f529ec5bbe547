"""Forms to issue an API token (one's own, or a service account's) and to add a service account."""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.people.models import ROLES, TOKEN_SCOPES
from app.people.tokens import MAX_EXPIRES_DAYS

SCOPE_HELP = {
    "read": "Read courses and the catalog.",
    "write": "Create, change and delete (the owner's role must also allow it). Implies read.",
    "admin": "Administrative endpoints. Implies write and read.",
}


def at_least_one(what: str):
    # Not DataRequired: its `required` flag would land on every checkbox and demand all of them.
    def check(form, field):
        if not field.data:
            raise ValidationError(f"Choose at least one {what}.")

    return check


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OwnTokenForm(FlaskForm):
    """A token for the signed-in person themself (My API tokens)."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    scopes = MultiCheckboxField(
        "Scopes",
        choices=[(s, s) for s in TOKEN_SCOPES],
        default=["read"],
        validators=[at_least_one("scope")],
    )
    expires_days = IntegerField(
        "Expires after (days)",
        validators=[Optional(), NumberRange(min=1, max=MAX_EXPIRES_DAYS)],
    )


class TokenForm(OwnTokenForm):
    """A token for a service account (admins only); the menu lists service accounts only."""

    owner_id = SelectField(
        "Service account", coerce=int, validate_choice=False, validators=[DataRequired()]
    )


class ServiceAccountForm(FlaskForm):
    name = StringField(
        "Name",
        validators=[DataRequired(), Length(max=180)],
        description="The system it stands for, e.g. “Order system”.",
    )
    roles = MultiCheckboxField(
        "Roles",
        choices=[(r, r) for r in ROLES],
        default=["employee"],
        validators=[at_least_one("role")],
    )
