"""Courses API (seed 1 paths): list, create, read, update, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request, url_for

from app.api import bp, json_object, link_header, page_body
from app.api.auth import api_access, current_actor
from app.models import Course
from app.models.courses import COURSE_STATUSES
from app.permissions import can
from app.platform.errors import Conflict, Invalid
from app.platform.pagination import Page
from app.services import courses as course_service

COLLECTION = "/training/courses"
ITEM = "/training/courses/<int(max=2147483647):course_id>"  # beyond int4 is simply unknown

_STR = ("code", "title", "summary", "category", "level", "language", "status")
_INT = ("estimated_minutes", "passing_score", "validity_months")
_BOOL = ("mandatory", "is_onboarding", "self_enroll")
# Fields the API hands out but never takes back; ignoring them lets clients PUT a GET body.
READ_ONLY = frozenset({"id", "version", "created_at", "updated_at", "modules"})


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def course_json(course: Course) -> dict[str, Any]:
    """The one JSON shape of a course."""
    return {
        "id": course.id,
        "code": course.code,
        "title": course.title,
        "summary": course.summary,
        "category": course.category,
        "tags": course.tag_list,
        "level": course.level,
        "language": course.language,
        "estimated_minutes": course.estimated_minutes,
        "status": course.status,
        "version": course.version,
        "passing_score": course.passing_score,
        "validity_months": course.validity_months,
        "mandatory": course.mandatory,
        "is_onboarding": course.is_onboarding,
        "self_enroll": course.self_enroll,
        "created_at": iso(course.created_at),
        "updated_at": iso(course.updated_at),
    }


def course_detail_json(course: Course) -> dict[str, Any]:
    out = course_json(course)
    out["modules"] = [
        {
            "id": m.id,
            "position": m.position,
            "kind": m.kind,
            "title": m.title,
            "required": m.required,
            "estimated_minutes": m.estimated_minutes,
        }
        for m in course.modules
    ]
    return out


def _type_errors(data: dict) -> dict[str, list[str]]:
    """JSON is typed: refuse strings in number fields, numbers in text fields and so on."""
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        if value is None:
            continue
        if name in _STR and not isinstance(value, str):
            errors[name] = ["Must be a string."]
        elif name in _INT and (isinstance(value, bool) or not isinstance(value, int)):
            errors[name] = ["Must be a whole number."]
        elif name in _BOOL and not isinstance(value, bool):
            errors[name] = ["Must be true or false."]
        elif name == "tags" and not (
            isinstance(value, str)
            or (isinstance(value, list) and all(isinstance(t, str) for t in value))
        ):
            errors[name] = ["Must be a list of strings."]
    if isinstance(data.get("status"), str) and data["status"] not in COURSE_STATUSES:
        errors["status"] = [f"One of: {', '.join(COURSE_STATUSES)}."]
    return errors


def _check(data: dict, partial: bool) -> None:
    """Validate everything up front so a refused request writes nothing. Raises Invalid."""
    errors = _type_errors(data)
    rest = {k: v for k, v in data.items() if k not in errors}
    try:
        course_service.validate_course_data(rest, partial=partial)
    except Invalid as exc:
        for name, messages in exc.errors.items():
            errors.setdefault(name, messages)
    if errors:
        raise Invalid("Some course fields are not valid.", errors)


@bp.get(COLLECTION)
@api_access("catalog.view")
def list_courses():
    query = course_service.CatalogQuery.from_args(request.args)
    manager = can(current_actor(), "course.manage")
    include = manager and bool(query.status)
    learner_asks_for_drafts = not manager and query.status not in ("", "published")

    def build() -> dict:
        if learner_asks_for_drafts:
            # Learners only ever see published courses; asking for drafts finds none.
            page = Page(items=[], total=0, page=query.page, per_page=query.per_page)
        else:
            page = course_service.search_catalog(query, include_unpublished=manager)
        body, _, _ = page_body(page, [course_json(c) for c in page.items])
        return body

    # The same body for everyone with the same view of the catalog, until a course changes;
    # the Link header is this request's own (its host and query string).
    key = ("api", manager, include, tuple(sorted(query.to_args().items())))
    body = course_service.catalog_cached(course_service.catalog_generation(), key, build)
    shown = Page(items=[], total=body["total"], page=body["page"], per_page=body["per_page"])
    return body, 200, {"Link": link_header(shown)}


@bp.post(COLLECTION)
@api_access("course.manage")
def create_course():
    data = {k: v for k, v in json_object().items() if k not in READ_ONLY}
    _check(data, partial=False)
    if data.get("status") not in (None, "draft"):
        raise Invalid(
            "New courses start as drafts.",
            {"status": ["New courses start as draft; publish with PUT once it has modules."]},
        )
    data.pop("status", None)
    course = course_service.create_course(data, actor=current_actor())
    location = url_for("api.get_course", course_id=course.id, _external=True)
    return course_detail_json(course), 201, {"Location": location}


@bp.get(ITEM)
@api_access("catalog.view")
def get_course(course_id: int):
    manager = can(current_actor(), "course.manage")
    course = course_service.get_catalog_course(course_id, include_unpublished=manager)
    return course_detail_json(course)


@bp.put(ITEM)
@api_access("course.manage")
def update_course(course_id: int):
    data = {k: v for k, v in json_object().items() if k not in READ_ONLY}
    course = course_service.get_course(course_id)
    _check(data, partial=True)
    status = data.pop("status", None)
    if status == "published" and course.status != "published" and not course.modules:
        # Checked before the field update so a refused publish leaves the course untouched.
        raise Conflict("Add at least one module before publishing.")
    actor = current_actor()
    if data:
        course_service.update_course(course_id, data, actor=actor, partial=True)
    if status:
        course_service.set_course_status(course_id, status, actor=actor)
    return course_detail_json(course_service.get_course(course_id))


@bp.delete(ITEM)
@api_access("course.manage")
def delete_course(course_id: int):
    course_service.delete_course(course_id, actor=current_actor())
    return "", 204
