"""Form to issue an API token."""

from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.people.models import TOKEN_SCOPES
from app.people.tokens import MAX_EXPIRES_DAYS

SCOPE_HELP = {
    "read": "Read courses and the catalog.",
    "write": "Create, change and delete (the owner's role must also allow it). Implies read.",
    "admin": "Administrative endpoints. Implies write and read.",
}


def at_least_one(form, field):
    # Not DataRequired: its `required` flag would land on every checkbox and demand all of them.
    if not field.data:
        raise ValidationError("Choose at least one scope.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):
    owner_email = EmailField(
        "Owner email", validators=[DataRequired(), Length(max=254)], render_kw={"required": True}
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    scopes = MultiCheckboxField(
        "Scopes",
        choices=[(s, s) for s in TOKEN_SCOPES],
        default=["read"],
        validators=[at_least_one],
    )
    expires_days = IntegerField(
        "Expires after (days)",
        validators=[Optional(), NumberRange(min=1, max=MAX_EXPIRES_DAYS)],
    )
