"""/api/v1/training/sessions: instructor-led sessions, bookings, attendees and attendance.

The same services as the pages (app.classroom.sessions, scheduling, booking, attendance).
DELETE on a session cancels it (kept, with its bookings); a completed session answers 409.
OPENAPI_PATHS and OPENAPI_SCHEMAS join the OpenAPI document (app.api.openapi).
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from app.api import bp, json_object, openapi, page_body
from app.api.auth import api_access, current_actor
from app.api.openapi_parts import json_response as _json
from app.api.openapi_parts import page_schema, paging_params
from app.api.openapi_parts import problem as _problem
from app.api.openapi_parts import query_param as _query
from app.classroom import attendance as attendance_svc
from app.classroom import booking as booking_svc
from app.classroom import eligibility
from app.classroom import scheduling as scheduling_svc
from app.classroom import sessions as sessions_svc
from app.classroom.models import (
    ATTENDANCE,
    REGISTRATION_STATUSES,
    SERIES_RULES,
    SESSION_STATUSES,
    SessionRegistration,
    TrainingSession,
)
from app.platform.errors import Invalid
from app.platform.timefmt import iso_utc

COLLECTION = "/v1/training/sessions"
ITEM = "/v1/training/sessions/<int(max=2147483647):session_id>"
REGISTRATIONS = f"{ITEM}/registrations"
REGISTRATION = f"{ITEM}/registrations/<int(max=2147483647):user_id>"
ATTENDEES = f"{ITEM}/attendees"
ATTENDANCE_URL = f"{ITEM}/attendance"
CREATE_INPUT = {*scheduling_svc.INPUT_FIELDS, *scheduling_svc.SERIES_FIELDS}


def session_json(row: sessions_svc.SessionRow) -> dict[str, Any]:
    """The one JSON shape of a session, with its seats."""
    s: TrainingSession = row.session
    return {
        "id": s.id,
        "uid": s.uid,
        "sequence": s.sequence,
        "course_id": s.course_id,
        "course": {"id": s.course.id, "code": s.course.code, "title": s.course.title},
        "title": sessions_svc.session_title(s),
        "instructor_ids": sorted(i.user_id for i in s.instructors),
        "instructors": [
            {"id": i.user.id, "name": i.user.name, "email": i.user.email}
            for i in sorted(s.instructors, key=lambda i: i.user_id)
        ],
        "starts_at": iso_utc(s.starts_at),
        "ends_at": iso_utc(s.ends_at),
        "timezone": s.timezone,
        "location": s.location,
        "online_url": s.online_url,
        "capacity": s.capacity,
        "seats_taken": row.taken,
        "seats_left": row.seats_left,
        "waitlisted": row.waiting,
        "registration_deadline": iso_utc(s.registration_deadline),
        "status": s.status,
        "notes": s.notes or "",
        "series_id": s.series_id,
        "cancelled_at": iso_utc(s.cancelled_at),
        "cancel_reason": s.cancel_reason,
        "signed_off_at": iso_utc(s.signed_off_at),
        "signed_off_by_id": s.signed_off_by_id,
        "my_status": row.my_status,
        **eligibility.restrictions_of(s).as_fields(),
    }


def registration_json(reg: SessionRegistration) -> dict[str, Any]:
    return {
        "id": reg.id,
        "session_id": reg.session_id,
        "user": {"id": reg.user.id, "name": reg.user.name, "email": reg.user.email},
        "status": reg.status,
        "waitlist_position": reg.waitlist_position,
        "attendance": reg.attendance,
        "registered_by_id": reg.registered_by_id,
        "registered_at": iso_utc(reg.registered_at),
        "promoted_at": iso_utc(reg.promoted_at),
        "cancelled_at": iso_utc(reg.cancelled_at),
        "enrollment_id": reg.enrollment_id,
    }


def _one(session_id: int) -> dict[str, Any]:
    return session_json(sessions_svc.session_row(session_id, current_actor()))


@bp.get(COLLECTION)
@api_access("session.view")
def list_sessions():
    me = current_actor()
    page = sessions_svc.list_sessions(
        sessions_svc.SessionQuery.from_args(request.args, me, strict=True), me
    )
    return page_body(page, [session_json(r) for r in page.items])


@bp.post(COLLECTION)
@api_access("session.manage")
def create_session():
    data = {k: v for k, v in json_object().items() if k in CREATE_INPUT}
    saved = scheduling_svc.create_sessions(data, current_actor())
    body = _one(saved.session.id) | {"warnings": saved.warnings}
    if len(saved.sessions) > 1:
        body["series_session_ids"] = [s.id for s in saved.sessions]
    location = url_for("api.get_session", session_id=saved.session.id, _external=True)
    return body, 201, {"Location": location}


@bp.get(ITEM)
@api_access("session.view")
def get_session(session_id: int):
    return _one(session_id)


@bp.put(ITEM)
@api_access("session.manage")
def update_session(session_id: int):
    data = {k: v for k, v in json_object().items() if k in scheduling_svc.INPUT_FIELDS}
    saved = scheduling_svc.update_session(session_id, data, current_actor())
    return _one(saved.session.id) | {"warnings": saved.warnings}


@bp.delete(ITEM)
@api_access("session.manage")
def cancel_session(session_id: int):
    reason = None
    if request.get_data():
        reason = json_object().get("reason")
    scheduling_svc.cancel_session(session_id, reason, current_actor())
    return "", 204


@bp.post(REGISTRATIONS)
@api_access("session.register")
def create_registration(session_id: int):
    data = json_object() if request.get_data() else {}
    data = {k: v for k, v in data.items() if k == "user_id"}
    booking = booking_svc.register(session_id, current_actor(), data)
    body = registration_json(booking.registration) | {"warnings": booking.warnings}
    return body, 201 if booking.created else 200


@bp.delete(REGISTRATION)
@api_access("session.register")
def cancel_registration(session_id: int, user_id: int):
    booking_svc.cancel_registration(session_id, user_id, current_actor())
    return "", 204


@bp.get(ATTENDEES)
@api_access("session.view")
def list_attendees(session_id: int):
    rows = sessions_svc.attendees(session_id, current_actor())
    return {"items": [registration_json(r) for r in rows], "total": len(rows)}


@bp.put(ATTENDANCE_URL)
@api_access("session.manage")
def update_attendance(session_id: int):
    data = json_object()
    marks = data.get("attendance")
    signing = data.get("sign")
    if marks is None and signing is None:
        raise Invalid(
            "Send `attendance`, `sign`, or both.",
            {"attendance": ['An object such as {"12": "present"}.']},
        )
    if signing is not None:
        if not isinstance(signing, dict):
            raise Invalid("`sign` must be an object.", {"sign": ['{"password": "..."}']})
        password = signing.get("password")
        if password is not None and not isinstance(password, str):
            raise Invalid("The password is text.", {"password": ["Must be text."]})
        attendance_svc.sign_off(session_id, current_actor(), password, marks)
    else:
        attendance_svc.mark_attendance(session_id, marks, current_actor())
    rows = sessions_svc.attendees(session_id, current_actor())
    session = sessions_svc.session_row(session_id, current_actor()).session
    return {
        "status": session.status,
        "signed_off_at": iso_utc(session.signed_off_at),
        "items": [registration_json(r) for r in rows if r.status == "registered"],
    }


# --- OpenAPI ---------------------------------------------------------------------------------

_STD = {
    "401": _problem("No valid token and no session."),
    "403": _problem("Role or token scope does not allow this."),
}
_WRITE = {
    "400": _problem("The body is not a JSON object, or the CSRF header is missing."),
    **_STD,
    "422": _problem("Invalid fields; `errors` maps each field to its messages."),
}
_NOT_FOUND = {"404": _problem("No such session.")}
_INT = {"type": "integer", "minimum": 0, "maximum": 2147483647}
_ID = {"name": "session_id", "in": "path", "required": True, "schema": _INT}
_USER = {"name": "user_id", "in": "path", "required": True, "schema": _INT}
_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _body(schema: str) -> dict:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


OPENAPI_PATHS: dict = {
    "/api/v1/training/sessions": {
        "get": {
            "operationId": "listSessions",
            "summary": "Sessions by start time, with seats taken and left",
            "description": "Anyone signed in (`read` scope). `Link` header for paging.",
            "parameters": [
                _query("course_id", {"type": "integer"}, "Only this course."),
                _query("instructor_id", {"type": "integer"}, "Only sessions this person teaches."),
                _query("status", {"type": "string", "enum": list(SESSION_STATUSES)}, "Status."),
                _query("location", {"type": "string"}, "Words in the location."),
                _query(
                    "from",
                    {"type": "string"},
                    "Sessions ending after this date (midnight in your time zone) or date-time.",
                ),
                _query("to", {"type": "string"}, "Sessions starting before the end of this day."),
                _query("mine", {"type": "boolean"}, "Only sessions you are booked on or teach."),
                _query(
                    "bookable",
                    {"type": "boolean"},
                    "Only sessions you may book (site, department, job role, prerequisites).",
                ),
                *paging_params(),
            ],
            "responses": {
                "200": {
                    **_json("SessionPage", "A page of sessions."),
                    "headers": {"Link": {"schema": {"type": "string"}}},
                },
                **_STD,
                "422": _problem("A filter is not valid."),
            },
        },
        "post": {
            "operationId": "createSession",
            "summary": "Schedule a session, or a weekly/monthly series in one step",
            "description": (
                "Needs `session.manage` (admin, HR, trainer) and the `write` scope. Audited. "
                "`warnings` lists double-booked instructors or rooms (saved anyway)."
            ),
            "requestBody": _body("SessionInput"),
            "responses": {
                "201": {
                    **_json("SessionSaved", "Created (the first of a series)."),
                    "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}},
                },
                **_WRITE,
            },
        },
    },
    "/api/v1/training/sessions/{session_id}": {
        "parameters": [_ID],
        "get": {
            "operationId": "getSession",
            "summary": "One session with its seats",
            "responses": {"200": _json("Session", "The session."), **_STD, **_NOT_FOUND},
        },
        "put": {
            "operationId": "updateSession",
            "summary": "Change some fields; a new time or place bumps `sequence` and tells "
            "everyone booked",
            "requestBody": _body("SessionInput"),
            "responses": {
                "200": _json("SessionSaved", "The changed session."),
                **_WRITE,
                **_NOT_FOUND,
                "409": _problem("The session is cancelled or completed."),
            },
        },
        "delete": {
            "operationId": "cancelSession",
            "summary": "Cancel the session (kept, bookings kept, everyone booked is told)",
            "description": 'Optional body `{"reason": "..."}`. Cancelling twice is harmless.',
            "responses": {
                "204": {"description": "Cancelled."},
                **_STD,
                **_NOT_FOUND,
                "409": _problem("The session is completed."),
            },
        },
    },
    "/api/v1/training/sessions/{session_id}/registrations": {
        "parameters": [_ID],
        "post": {
            "operationId": "registerForSession",
            "summary": "Book a seat (or a waitlist place when full) for yourself or `user_id`",
            "description": (
                "Yourself: when the course allows self-enrolment or you have an open "
                "enrollment in it. Others: HR, trainers, admins anyone; managers their direct "
                "reports. 201 when booked now, 200 when already booked."
            ),
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"user_id": {"type": "integer"}}}
                    }
                },
            },
            "responses": {
                "201": _json("RegistrationSaved", "Booked or waitlisted."),
                "200": _json("RegistrationSaved", "Already booked; unchanged."),
                **_WRITE,
                **_NOT_FOUND,
                "409": _problem(
                    "Booking is closed, the session is cancelled or completed, or the person may"
                    " not book it (site, department, job role or a prerequisite; the detail says"
                    " which)."
                ),
            },
        },
    },
    "/api/v1/training/sessions/{session_id}/registrations/{user_id}": {
        "parameters": [_ID, _USER],
        "delete": {
            "operationId": "cancelRegistration",
            "summary": "Cancel a booking; a freed seat goes to the first on the waitlist",
            "responses": {
                "204": {"description": "Cancelled."},
                **_STD,
                "404": _problem("No such session, person or booking."),
                "409": _problem("The session has started, or is cancelled or completed."),
            },
        },
    },
    "/api/v1/training/sessions/{session_id}/attendees": {
        "parameters": [_ID],
        "get": {
            "operationId": "listSessionAttendees",
            "summary": "Bookings (seats, waitlist, cancelled) you may see",
            "description": (
                "Session managers and instructors see everyone; managers their direct "
                "reports; others their own booking."
            ),
            "responses": {"200": _json("AttendeeList", "Bookings."), **_STD, **_NOT_FOUND},
        },
    },
    "/api/v1/training/sessions/{session_id}/attendance": {
        "parameters": [_ID],
        "put": {
            "operationId": "updateSessionAttendance",
            "summary": "Mark present/absent; with `sign`, sign off (e-signature) and complete",
            "description": (
                "Needs `session.manage`; signing needs an instructor of the session (or an "
                "admin) and the signer's password. Sign-off completes present learners' "
                "enrollments (certificates follow); a wrong password changes nothing."
            ),
            "requestBody": _body("AttendanceInput"),
            "responses": {
                "200": _json("AttendanceResult", "Saved (and signed off)."),
                **_WRITE,
                **_NOT_FOUND,
                "409": _problem("Not started yet, or cancelled or completed."),
                "429": _problem("Too many failed passwords: try again after Retry-After seconds."),
            },
        },
    },
}

_INPUT_FIELDS: dict = {
    "course_id": {"type": "integer"},
    "title": {"type": ["string", "null"], "maxLength": 200},
    "instructor_ids": {
        "type": "array",
        "items": {"type": "integer"},
        "description": "People with the trainer role; default: yourself.",
    },
    "timezone": {
        "type": "string",
        "description": "IANA zone of times given without an offset; default: yours.",
    },
    "starts_at": {"type": "string", "description": "ISO date-time; no offset: in `timezone`."},
    "ends_at": {"type": "string"},
    "location": {"type": ["string", "null"], "maxLength": 200},
    "online_url": {"type": ["string", "null"], "maxLength": 500},
    "capacity": {"type": "integer", "minimum": 1, "maximum": scheduling_svc.MAX_CAPACITY},
    "registration_deadline": {"type": ["string", "null"]},
    "notes": {"type": ["string", "null"], "maxLength": 5000},
    **{
        name: {
            "type": "array",
            "items": {"type": "string" if name == "eligible_sites" else "integer"},
            "description": description,
        }
        for name, description in (
            ("eligible_sites", "Who may book: these sites only (empty: any site)."),
            ("eligible_department_ids", "Who may book: these departments only."),
            ("eligible_job_role_ids", "Who may book: these job roles only."),
            ("prerequisite_course_ids", "Who may book: people who completed all of these."),
        )
    },
}
_PERSON = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "email": {"type": "string"},
    },
}
_SESSION_PROPS: dict = {
    "id": {"type": "integer"},
    "uid": {"type": "string", "description": "Stable iCalendar UID."},
    "sequence": {"type": "integer", "description": "iCalendar SEQUENCE."},
    "course_id": {"type": "integer"},
    "course": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "code": {"type": "string"},
            "title": {"type": "string"},
        },
    },
    "title": {"type": "string"},
    "instructor_ids": {"type": "array", "items": {"type": "integer"}},
    "instructors": {"type": "array", "items": _PERSON},
    "starts_at": {"type": "string", "format": "date-time"},
    "ends_at": {"type": "string", "format": "date-time"},
    "timezone": {"type": "string"},
    "location": {"type": ["string", "null"]},
    "online_url": {"type": ["string", "null"]},
    "capacity": {"type": "integer"},
    "seats_taken": {"type": "integer"},
    "seats_left": {"type": "integer"},
    "waitlisted": {"type": "integer"},
    "registration_deadline": _DATE_TIME,
    "status": {"type": "string", "enum": list(SESSION_STATUSES)},
    "notes": {"type": "string"},
    "series_id": {"type": ["integer", "null"]},
    "cancelled_at": _DATE_TIME,
    "cancel_reason": {"type": ["string", "null"]},
    "signed_off_at": _DATE_TIME,
    "signed_off_by_id": {"type": ["integer", "null"]},
    "my_status": {
        "type": ["string", "null"],
        "enum": [*REGISTRATION_STATUSES, None],
        "description": "Your own booking, if any.",
    },
    "eligible_sites": {"type": "array", "items": {"type": "string"}},
    "eligible_department_ids": {"type": "array", "items": {"type": "integer"}},
    "eligible_job_role_ids": {"type": "array", "items": {"type": "integer"}},
    "prerequisite_course_ids": {"type": "array", "items": {"type": "integer"}},
}
_REGISTRATION_PROPS: dict = {
    "id": {"type": "integer"},
    "session_id": {"type": "integer"},
    "user": _PERSON,
    "status": {"type": "string", "enum": list(REGISTRATION_STATUSES)},
    "waitlist_position": {"type": ["integer", "null"]},
    "attendance": {"type": ["string", "null"], "enum": [*ATTENDANCE, None]},
    "registered_by_id": {"type": ["integer", "null"]},
    "registered_at": {"type": "string", "format": "date-time"},
    "promoted_at": _DATE_TIME,
    "cancelled_at": _DATE_TIME,
    "enrollment_id": {"type": ["integer", "null"]},
}
_WARNINGS = {"type": "array", "items": {"type": "string"}}

OPENAPI_SCHEMAS: dict = {
    "SessionInput": {
        "type": "object",
        "description": (
            "course_id, starts_at, ends_at, capacity and a location or online_url are required "
            "to create; PUT changes the fields sent. Create only: `repeat`, `occurrences`, "
            "`interval` make a series."
        ),
        "properties": {
            **_INPUT_FIELDS,
            "repeat": {"type": ["string", "null"], "enum": [*SERIES_RULES, "none", None]},
            "occurrences": {
                "type": "integer",
                "minimum": 2,
                "maximum": scheduling_svc.MAX_OCCURRENCES,
            },
            "interval": {"type": "integer", "minimum": 1, "maximum": scheduling_svc.MAX_INTERVAL},
        },
    },
    "Session": {
        "type": "object",
        "properties": _SESSION_PROPS,
        "required": ["id", "uid", "sequence", "course_id", "starts_at", "ends_at", "status"],
    },
    "SessionSaved": {
        "type": "object",
        "properties": {
            **_SESSION_PROPS,
            "warnings": _WARNINGS,
            "series_session_ids": {"type": "array", "items": {"type": "integer"}},
        },
        "required": ["id", "status", "warnings"],
    },
    "SessionPage": page_schema("Session"),
    "Registration": {
        "type": "object",
        "properties": _REGISTRATION_PROPS,
        "required": ["id", "session_id", "user", "status"],
    },
    "RegistrationSaved": {
        "type": "object",
        "properties": {**_REGISTRATION_PROPS, "warnings": _WARNINGS},
        "required": ["id", "status", "warnings"],
    },
    "AttendeeList": {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Registration"}},
            "total": {"type": "integer"},
        },
        "required": ["items", "total"],
    },
    "AttendanceInput": {
        "type": "object",
        "properties": {
            "attendance": {
                "type": "object",
                "additionalProperties": {"type": "string", "enum": list(ATTENDANCE)},
                "description": "user id -> present or absent.",
            },
            "sign": {
                "type": "object",
                "properties": {"password": {"type": "string"}},
                "description": "Sign off with your password after applying `attendance`.",
            },
        },
    },
    "AttendanceResult": {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": list(SESSION_STATUSES)},
            "signed_off_at": _DATE_TIME,
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Registration"}},
        },
        "required": ["status", "items"],
    },
}

openapi.register(OPENAPI_PATHS, OPENAPI_SCHEMAS)
