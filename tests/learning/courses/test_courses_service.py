"""Course service rules shared by the pages and the API."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.learning import courses
from app.learning.courses import CatalogQuery
from app.learning.models import Course
from app.platform.audit import AuditLog
from app.platform.errors import Conflict, Invalid
from tests.learning.factories import CourseFactory, EnrollmentFactory, ModuleFactory
from tests.people.factories import UserFactory

pytestmark = pytest.mark.usefixtures("app")  # service tests run inside the app

VALID = {
    "code": "gmp-101",
    "title": "GMP basics",
    "summary": "Good manufacturing practice",
    "tags": "GMP, Safety ,gmp",
    "level": "beginner",
    "language": "en",
}


def _audit_count(entity="course"):
    return db.session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.entity == entity)
    )


def test_create_normalises_and_audits():
    trainer = UserFactory(roles=["trainer"])
    course = courses.create_course(VALID, actor=trainer)
    assert course.code == "GMP-101" and course.status == "draft" and course.version == 1
    assert course.tag_list == ["gmp", "safety"]
    row = db.session.scalars(select(AuditLog)).one()
    assert (row.action, row.entity, row.entity_id) == ("create", "course", str(course.id))
    assert row.after["title"] == "GMP basics" and row.actor_id == trainer.id


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("code", ""),
        ("code", "has space"),
        ("title", ""),
        ("level", "expert"),
        ("language", "english"),
        ("estimated_minutes", "ten"),
        ("passing_score", 101),
        ("validity_months", 0),
        ("mandatory", "perhaps"),
    ],
)
def test_invalid_fields_are_reported_and_nothing_is_written(field, value):
    with pytest.raises(Invalid) as exc:
        courses.create_course({**VALID, field: value})
    assert field in exc.value.errors
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0
    assert _audit_count() == 0


def test_unknown_fields_are_rejected():
    with pytest.raises(Invalid) as exc:
        courses.create_course({**VALID, "price": 3})
    assert "price" in exc.value.errors


def test_code_must_be_unique_ignoring_case():
    CourseFactory(code="GMP-101")
    with pytest.raises(Invalid) as exc:
        courses.create_course({**VALID, "code": "gmp-101"})
    assert "code" in exc.value.errors


def test_editing_a_published_course_bumps_its_version_but_a_draft_does_not():
    draft = CourseFactory(status="draft")
    courses.update_course(draft.id, {"title": "New title"})
    assert draft.version == 1
    live = CourseFactory(status="published")
    courses.update_course(live.id, {"title": "New title"})
    assert live.version == 2
    courses.update_course(live.id, {"title": "New title"})  # no change, no bump
    assert live.version == 2


def test_update_records_before_and_after():
    course = CourseFactory(title="Old")
    courses.update_course(course.id, {"title": "New"})
    row = db.session.scalars(select(AuditLog)).one()
    assert row.before["title"] == "Old" and row.after["title"] == "New"


def test_publish_needs_a_module_and_retire_keeps_the_course():
    course = CourseFactory(status="draft")
    with pytest.raises(Conflict):
        courses.publish_course(course.id)
    ModuleFactory(course=course, position=1)
    db.session.refresh(course)
    courses.publish_course(course.id)
    assert course.status == "published" and course.published_at is not None
    courses.retire_course(course.id, reason="superseded")
    assert course.status == "retired"
    assert db.session.get(Course, course.id) is not None


def test_delete_with_enrollments_is_a_conflict():
    enrollment = EnrollmentFactory()
    with pytest.raises(Conflict, match="retire"):
        courses.delete_course(enrollment.course_id)
    assert db.session.get(Course, enrollment.course_id) is not None


def test_delete_unused_course_removes_it_and_its_modules():
    course = CourseFactory()
    ModuleFactory(course=course, position=1)
    courses.delete_course(course.id)
    assert db.session.scalar(select(func.count()).select_from(Course)) == 0
    assert _audit_count() == 1


def test_catalog_search_matches_every_word_across_fields():
    CourseFactory(title="Cleanroom gowning", summary="Sterile areas", tags=",gmp,")
    CourseFactory(title="Returns handling", summary="Marketplace returns", tags=",seller,")
    CourseFactory(title="Draft course gmp", status="draft")

    def titles(**kw):
        page = courses.search_catalog(CatalogQuery(**kw))
        return sorted(c.title for c in page.items)

    assert titles(q="gmp") == ["Cleanroom gowning"]
    assert titles(q="sterile gowning") == ["Cleanroom gowning"]
    assert titles(q="returns") == ["Returns handling"]
    assert titles(q="100%") == []
    assert sorted(
        c.title
        for c in courses.search_catalog(CatalogQuery(q="gmp"), include_unpublished=True).items
    ) == ["Cleanroom gowning", "Draft course gmp"]


def test_catalog_query_from_args_ignores_junk():
    q = CatalogQuery.from_args(
        {"page": "-3", "per_page": "100000", "sort": "drop table", "mandatory": "maybe"}
    )
    assert (q.page, q.per_page, q.sort, q.mandatory) == (1, 100, "title", None)


def test_filter_menus_follow_course_changes_at_once():
    course = CourseFactory(category="Safety", status="published")
    assert "Safety" in courses.catalog_facets()["categories"]
    ModuleFactory(course=course, position=1)
    courses.update_course(course.id, {"category": "Robotics"})
    assert courses.catalog_facets()["categories"] == ["Robotics"]
