"""A published course can always be finished: no required module learners cannot complete."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.learning import courses, module_kinds, modules
from app.learning.models import MODULE_KINDS, Course
from app.platform.errors import Conflict, Invalid
from tests.helpers.api import bearer
from tests.learning.courses.conftest import audit_count
from tests.learning.factories import CourseFactory, ModuleFactory

COURSES = "/api/training/courses"


def _blocked_course(status: str = "draft", **kw) -> Course:
    course = CourseFactory(status=status, title="Anti-bribery", **kw)
    ModuleFactory(course=course, position=1, kind="text", title="Why it matters")
    ModuleFactory(course=course, position=2, kind="scenario", title="Gift or bribe?")
    return course


def test_the_registry_says_which_kinds_learners_can_complete(app):
    completable = {k for k in MODULE_KINDS if module_kinds.is_completable(k)}
    # sop completes by the gxp domain's registered e-signature; scenario has no player yet.
    assert completable == {"text", "video", "document", "quiz", "assignment", "sop"}


def test_publishing_a_course_with_a_required_scenario_is_refused_naming_it(app):
    course = _blocked_course()

    with pytest.raises(Conflict) as refused:
        courses.publish_course(course.id)

    assert "2. “Gift or bribe?” (scenario)" in refused.value.detail
    assert "optional" in refused.value.detail
    assert refused.value.errors == {"modules": ["2. Gift or bribe?"]}
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "draft"
    assert audit_count("course") == 0


def test_an_optional_scenario_does_not_stop_publishing(app):
    course = CourseFactory(status="draft")
    ModuleFactory(course=course, position=1, kind="text")
    ModuleFactory(course=course, position=2, kind="scenario", required=False)

    assert courses.publish_course(course.id).status == "published"


def test_adding_a_required_scenario_to_a_published_course_is_refused(app):
    course = CourseFactory(status="published")
    ModuleFactory(course=course, position=1, kind="text")
    data = {"kind": "scenario", "title": "Order queue", "body": "Work the queue.", "required": True}

    with pytest.raises(Invalid) as refused:
        modules.add_module(course.id, data)

    assert "optional" in refused.value.errors["required"][0]
    optional = modules.add_module(course.id, {**data, "required": False})
    assert optional.required is False
    # ... and an optional one cannot be made required while the course is published.
    with pytest.raises(Invalid):
        modules.update_module(optional.id, {"required": True})
    # A draft may hold one while it is being built: publishing is where it is refused.
    draft = CourseFactory(status="draft")
    assert modules.add_module(draft.id, data).required is True


def test_the_publish_button_shows_the_refusal(client, as_trainer):
    course = _blocked_course()

    resp = client.post(
        f"/authoring/courses/{course.id}/publish",
        data={"csrf_token": as_trainer},
        follow_redirects=True,
    )

    body = resp.get_data(as_text=True)
    assert "This course cannot be published. Learners cannot complete the required module" in body
    assert "Gift or bribe?" in body
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "draft"


def test_adding_a_required_scenario_in_the_builder_shows_a_field_error(client, as_trainer):
    course = CourseFactory(status="published")
    ModuleFactory(course=course, position=1, kind="text")

    resp = client.post(
        f"/authoring/courses/{course.id}/modules",
        data={
            "csrf_token": as_trainer,
            "kind": "scenario",
            "title": "Order queue",
            "body": "x",
            "required": "y",
            "estimated_minutes": "10",
        },
    )

    assert resp.status_code == 422
    assert "in a published course it can only be optional" in resp.get_data(as_text=True)
    assert len(db.session.get(Course, course.id).modules) == 1


def test_the_api_refuses_to_publish_and_changes_nothing(client, trainer_token):
    course = _blocked_course()

    resp = client.put(
        f"{COURSES}/{course.id}",
        json={"status": "published", "title": "Renamed"},
        headers=bearer(trainer_token),
    )

    assert resp.status_code == 409
    assert resp.mimetype == "application/problem+json"
    problem = resp.get_json()
    assert "Gift or bribe?" in problem["detail"]
    assert problem["errors"] == {"modules": ["2. Gift or bribe?"]}
    db.session.expire_all()
    again = db.session.get(Course, course.id)
    assert (again.status, again.title) == ("draft", "Anti-bribery")


def test_an_unfinishable_published_course_warns_its_authors(client, auth, as_trainer):
    course = _blocked_course(status="published")  # e.g. published before the rule existed

    builder = client.get(f"/authoring/courses/{course.id}").get_data(as_text=True)
    detail = client.get(f"/courses/{course.id}").get_data(as_text=True)

    for body in (builder, detail):
        assert "Learners cannot finish this published course." in body
        assert "2. Gift or bribe?" in body
    fine = CourseFactory(status="published")
    ModuleFactory(course=fine, position=1, kind="text")
    assert "cannot finish" not in client.get(f"/courses/{fine.id}").get_data(as_text=True)


def test_the_demo_ships_only_courses_learners_can_finish(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0

    published = db.session.scalars(
        select(Course).where(Course.status == "published").options(selectinload(Course.modules))
    ).all()
    required = [c for c in published if any(m.required for m in c.modules)]
    assert len(required) >= 15
    blocked = {
        c.code: [m.title for m in courses.unfinishable_modules(list(c.modules))] for c in required
    }
    assert {code: titles for code, titles in blocked.items() if titles} == {}
    # The scenarios are still there for when their player arrives, as optional modules.
    scenarios = [m for c in published for m in c.modules if m.kind == "scenario"]
    assert scenarios and not any(m.required for m in scenarios)
