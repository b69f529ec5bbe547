"""The email preferences form: one checkbox per kind, and the daily digest."""

from __future__ import annotations

from wtforms import BooleanField

from app.notifications.preferences import KINDS, Preferences
from app.platform.web.forms import ServiceForm


class PreferencesForm(ServiceForm):
    daily_digest = BooleanField(
        "Send me one email a day (a digest) instead of one email per notification"
    )

    @staticmethod
    def field_name(kind: str) -> str:
        return f"email_{kind}"

    @classmethod
    def for_preferences(cls, prefs: Preferences) -> PreferencesForm:
        data = {cls.field_name(k): on for k, on in prefs.email_on.items()}
        return cls(data={**data, "daily_digest": prefs.daily_digest})

    def kind_fields(self) -> list:
        return [getattr(self, self.field_name(kind)) for kind in KINDS]

    def email_off(self) -> list[str]:
        return [kind for kind in KINDS if not getattr(self, self.field_name(kind)).data]


for _kind, _label in KINDS.items():
    setattr(PreferencesForm, PreferencesForm.field_name(_kind), BooleanField(_label))
