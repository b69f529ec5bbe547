"""Session forms: they only shape the input; app.classroom.scheduling and booking validate."""

from __future__ import annotations

from typing import Any

from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField

from app.classroom.eligibility import restrictions_of
from app.classroom.scheduling import INPUT_FIELDS, MAX_OCCURRENCES, SERIES_FIELDS
from app.classroom.sessions import local_input
from app.platform.web.forms import ServiceForm

_WHEN = {"type": "datetime-local"}


class SessionForm(ServiceForm):
    course_id = SelectField("Course", choices=[], validate_choice=False)
    title = StringField("Title (blank: the course title)")
    instructor_ids = SelectMultipleField(
        "Instructors", choices=[], validate_choice=False, coerce=str
    )
    timezone = SelectField("Time zone of the times below", choices=[], validate_choice=False)
    starts_at = StringField("Starts", render_kw=_WHEN)
    ends_at = StringField("Ends", render_kw=_WHEN)
    location = StringField("Room or place")
    online_url = StringField("Online link", render_kw={"type": "url"})
    capacity = StringField("Seats", render_kw={"type": "number", "min": 1, "max": 10000})
    registration_deadline = StringField("Booking closes (blank: at the start)", render_kw=_WHEN)
    notes = TextAreaField("Notes for participants", render_kw={"rows": 3})
    # Who may book (app.classroom.eligibility); empty lists: everyone.
    eligible_sites = SelectMultipleField("Sites", choices=[], validate_choice=False, coerce=str)
    eligible_department_ids = SelectMultipleField(
        "Departments", choices=[], validate_choice=False, coerce=str
    )
    eligible_job_role_ids = SelectMultipleField(
        "Job roles", choices=[], validate_choice=False, coerce=str
    )
    prerequisite_course_ids = SelectMultipleField(
        "Prerequisite courses", choices=[], validate_choice=False, coerce=str
    )
    # Only when creating: a series made in one step.
    repeat = SelectField(
        "Repeat",
        choices=[("", "Does not repeat"), ("weekly", "Weekly"), ("monthly", "Monthly")],
        validate_choice=False,
    )
    occurrences = StringField(
        "Number of sessions", render_kw={"type": "number", "min": 2, "max": MAX_OCCURRENCES}
    )
    interval = StringField(
        "Every (weeks or months)", default="1", render_kw={"type": "number", "min": 1, "max": 12}
    )

    FIELDS = INPUT_FIELDS  # what the service reads, so the form can give nothing else
    SERIES = SERIES_FIELDS

    def to_data(self, series: bool = False) -> dict[str, Any]:
        names = self.FIELDS + (self.SERIES if series else ())
        return {name: self[name].data for name in names}

    @classmethod
    def for_session(cls, session) -> SessionForm:
        form = cls()
        if not form.is_submitted():
            tz = session.timezone
            form.course_id.data = str(session.course_id)
            form.title.data = session.title or ""
            form.instructor_ids.data = [str(i.user_id) for i in session.instructors]
            form.timezone.data = tz
            form.starts_at.data = local_input(session.starts_at, tz)
            form.ends_at.data = local_input(session.ends_at, tz)
            form.location.data = session.location or ""
            form.online_url.data = session.online_url or ""
            form.capacity.data = str(session.capacity)
            form.registration_deadline.data = local_input(session.registration_deadline, tz)
            form.notes.data = session.notes or ""
            for name, values in restrictions_of(session).as_fields().items():
                form[name].data = [str(v) for v in values]
        return form


class CancelForm(ServiceForm):
    reason = TextAreaField("Reason (sent to everyone booked)", render_kw={"rows": 2})


class BookForm(ServiceForm):
    person = StringField("Person (email)", render_kw={"list": "bookable-people"})

    ALIASES = {"user_id": "person"}


class ActionForm(ServiceForm):
    """A bare form for buttons (book myself, cancel a booking): only the CSRF token."""
