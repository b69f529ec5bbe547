from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[Length(max=200)])
    new_password = PasswordField("New password", validators=[Length(max=200)])
    confirm_password = PasswordField("New password again", validators=[Length(max=200)])

    def apply_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            field = getattr(self, name, None)
            if field is not None:
                field.errors = list(field.errors) + list(messages)
            else:
                self.form_errors.extend(messages)
