"""Form bases every domain's forms build on."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ServiceForm(FlaskForm):
    """A form whose real validation happens in a service; Invalid errors land on the fields."""

    def apply_errors(self, errors: dict[str, list[str]], aliases: dict[str, str] | None = None):
        aliases = aliases or {}
        for name, messages in errors.items():
            field = getattr(self, aliases.get(name, name), None)
            if field is not None and hasattr(field, "errors"):
                field.errors = list(field.errors) + list(messages)
            else:
                self.form_errors.extend(messages)


class ActionForm(ServiceForm):
    """A bare form for buttons (withdraw, revoke, sign out): only the CSRF token."""
