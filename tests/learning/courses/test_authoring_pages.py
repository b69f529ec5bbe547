"""Trainer authoring pages: course form, builder, modules, reorder, publish/retire/delete."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.learning import modules
from app.learning.models import Course, Module
from app.platform.files import StoredFile
from tests.learning.courses.conftest import MP4, PDF, PNG, audit_count, count, upload
from tests.learning.factories import CourseFactory, EnrollmentFactory, ModuleFactory


def _course_form(token, **overrides):
    data = {
        "csrf_token": token,
        "code": "gmp-101",
        "title": "GMP Basics",
        "summary": "Good **manufacturing** practice.",
        "category": "Quality",
        "tags": "GMP, hygiene",
        "level": "beginner",
        "language": "en",
        "estimated_minutes": "45",
        "passing_score": "80",
        "validity_months": "",
        "mandatory": "y",
        "self_enroll": "y",
    }
    data.update(overrides)
    return data


def test_create_course_via_form_then_it_is_in_the_authoring_list(client, as_trainer):
    resp = client.post("/authoring/courses/new", data=_course_form(as_trainer))

    assert resp.status_code == 302
    course = db.session.scalars(select(Course)).one()
    assert resp.headers["Location"].endswith(f"/authoring/courses/{course.id}")
    assert (course.code, course.status, course.version) == ("GMP-101", "draft", 1)
    assert course.tags == ",gmp,hygiene,"
    assert course.validity_months is None and course.mandatory and not course.is_onboarding
    assert audit_count("course", "create") == 1

    listing = client.get("/authoring/courses").get_data(as_text=True)
    assert "GMP Basics" in listing and "GMP-101" in listing and "badge-draft" in listing


def test_bad_course_input_rerenders_with_errors_and_writes_nothing(client, as_trainer):
    resp = client.post(
        "/authoring/courses/new",
        data=_course_form(as_trainer, code="bad code!", title="", passing_score="150"),
    )

    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "Required: letters, digits" in body
    assert "Required, at most 200 characters." in body
    assert "Must be between 0 and 100." in body
    assert 'value="GMP Basics"' not in body  # the title really was blank
    assert count(Course) == 0 and audit_count() == 0


def test_non_numeric_minutes_is_a_field_error(client, as_trainer):
    resp = client.post(
        "/authoring/courses/new", data=_course_form(as_trainer, estimated_minutes="lots")
    )
    assert resp.status_code == 422
    assert "Not a valid integer value" in resp.get_data(as_text=True)
    assert count(Course) == 0


def test_duplicate_code_is_a_field_error(client, as_trainer):
    CourseFactory(code="GMP-101")
    resp = client.post("/authoring/courses/new", data=_course_form(as_trainer))
    assert resp.status_code == 422
    assert "Another course uses this code." in resp.get_data(as_text=True)
    assert count(Course) == 1


def test_cover_image_upload_and_refusal(client, as_trainer):
    bad = _course_form(as_trainer, cover=(upload(PNG, "x").stream, "cover.exe"))
    resp = client.post("/authoring/courses/new", data=bad, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "must be one of: .png" in resp.get_data(as_text=True)
    assert count(Course) == 0 and count(StoredFile) == 0

    good = _course_form(as_trainer, cover=(upload(PNG, "x").stream, "cover.png"))
    resp = client.post("/authoring/courses/new", data=good, content_type="multipart/form-data")
    assert resp.status_code == 302
    course = db.session.scalars(select(Course)).one()
    assert course.cover_file.filename == "cover.png"


def test_editing_a_published_course_bumps_its_version(client, as_trainer):
    course = CourseFactory(status="published", version=3, code="SAFE-1", title="Safety")
    page = client.get(f"/authoring/courses/{course.id}/edit").get_data(as_text=True)
    assert 'value="Safety"' in page and "makes version 4" in page

    data = _course_form(as_trainer, code="SAFE-1", title="Safety at work")
    resp = client.post(f"/authoring/courses/{course.id}/edit", data=data)

    assert resp.status_code == 302
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert (course.title, course.version) == ("Safety at work", 4)


def test_add_document_module_via_multipart_form_shows_file(client, as_trainer):
    course = CourseFactory(status="draft")
    data = {
        "csrf_token": as_trainer,
        "kind": "document",
        "title": "Cleaning SOP",
        "body": "",
        "required": "y",
        "estimated_minutes": "15",
        "file": (upload(PDF, "x").stream, "cleaning sop.pdf"),
    }
    resp = client.post(
        f"/authoring/courses/{course.id}/modules", data=data, content_type="multipart/form-data"
    )
    assert resp.status_code == 302

    page = client.get(f"/authoring/courses/{course.id}").get_data(as_text=True)
    assert "Cleaning SOP" in page
    assert "cleaning_sop.pdf" in page
    assert f"{len(PDF)} B" in page
    module = db.session.scalars(select(Module)).one()
    assert module.file.filename == "cleaning_sop.pdf"


def test_bad_module_form_returns_422_and_writes_nothing(client, as_trainer):
    course = CourseFactory(status="draft")
    data = {
        "csrf_token": as_trainer,
        "kind": "video",
        "title": "",
        "estimated_minutes": "5",
        "file": (upload(PDF, "x").stream, "clip.mp4"),
    }
    resp = client.post(
        f"/authoring/courses/{course.id}/modules", data=data, content_type="multipart/form-data"
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "not a real .mp4" in body and "Required, at most 200 characters." in body
    assert count(Module) == 0 and count(StoredFile) == 0 and audit_count() == 0


def _three_modules(trainer):
    course = CourseFactory(status="draft")
    ids = [
        modules.add_module(course.id, {"kind": "text", "title": t, "body": t}, trainer).id
        for t in ("Alpha", "Bravo", "Charlie")
    ]
    return course, ids


def _titles(course_id):
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Module.title).where(Module.course_id == course_id).order_by(Module.position)
        )
    )


def test_reorder_via_htmx_returns_only_the_list_fragment(client, as_trainer, trainer):
    course, ids = _three_modules(trainer)

    resp = client.post(
        f"/authoring/modules/{ids[2]}/move",
        data={"csrf_token": as_trainer, "direction": "up"},
        headers={"HX-Request": "true"},
    )

    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<html" not in body and 'id="module-list"' in body
    assert body.index("Charlie") < body.index("Bravo")
    assert _titles(course.id) == ["Alpha", "Charlie", "Bravo"]


def test_reorder_via_plain_post_redirects_to_the_builder(client, as_trainer, trainer):
    course, ids = _three_modules(trainer)

    resp = client.post(
        f"/authoring/modules/{ids[0]}/move", data={"csrf_token": as_trainer, "direction": "down"}
    )

    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/authoring/courses/{course.id}#modules")
    assert _titles(course.id) == ["Bravo", "Alpha", "Charlie"]


def test_delete_module_via_htmx_and_plain_post(client, as_trainer, trainer):
    course, ids = _three_modules(trainer)

    resp = client.post(
        f"/authoring/modules/{ids[1]}/delete",
        data={"csrf_token": as_trainer},
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 200 and "<html" not in resp.get_data(as_text=True)
    assert _titles(course.id) == ["Alpha", "Charlie"]

    resp = client.post(f"/authoring/modules/{ids[0]}/delete", data={"csrf_token": as_trainer})
    assert resp.status_code == 302
    assert _titles(course.id) == ["Charlie"]


def test_a_module_with_learner_progress_is_never_deleted(client, as_trainer, trainer):
    from app.learning.models import Progress

    course, ids = _three_modules(trainer)
    enrollment = EnrollmentFactory(course=course)
    db.session.add(Progress(enrollment_id=enrollment.id, module_id=ids[0], status="completed"))
    db.session.commit()
    url = f"/authoring/modules/{ids[0]}/delete"
    resp = client.post(url, data={"csrf_token": as_trainer}, follow_redirects=True)
    assert "training records are never deleted" in resp.get_data(as_text=True)
    assert _titles(course.id) == ["Alpha", "Bravo", "Charlie"]


def test_publish_without_modules_shows_the_conflict(client, as_trainer):
    course = CourseFactory(status="draft")
    resp = client.post(
        f"/authoring/courses/{course.id}/publish",
        data={"csrf_token": as_trainer},
        follow_redirects=True,
    )
    assert "Add at least one module before publishing." in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "draft"


def test_publish_then_retire(client, as_trainer):
    course = CourseFactory(status="draft")
    ModuleFactory(course=course, position=1)

    resp = client.post(
        f"/authoring/courses/{course.id}/publish",
        data={"csrf_token": as_trainer},
        follow_redirects=True,
    )
    assert "Published" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "published"

    resp = client.post(
        f"/authoring/courses/{course.id}/retire",
        data={"csrf_token": as_trainer},
        follow_redirects=True,
    )
    assert "Retired" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Course, course.id).status == "retired"
    assert audit_count("course", "update") == 2


def test_delete_with_enrollments_suggests_retire(client, as_trainer):
    course = CourseFactory()
    EnrollmentFactory(course=course)

    resp = client.post(
        f"/authoring/courses/{course.id}/delete",
        data={"csrf_token": as_trainer},
        follow_redirects=True,
    )
    body = resp.get_data(as_text=True)
    assert "1 enrollment(s) reference this course" in body and "Retire" in body
    assert count(Course) == 1


def test_delete_without_enrollments(client, as_trainer):
    course = CourseFactory(status="draft", title="Doomed")
    ModuleFactory(course=course, position=1)

    resp = client.post(
        f"/authoring/courses/{course.id}/delete",
        data={"csrf_token": as_trainer},
        follow_redirects=True,
    )
    assert "Course deleted." in resp.get_data(as_text=True)
    assert count(Course) == 0 and count(Module) == 0
    assert audit_count("course", "delete") == 1


def test_edit_module_page_and_bad_edit(client, as_trainer, trainer):
    course, ids = _three_modules(trainer)
    page = client.get(f"/authoring/modules/{ids[0]}/edit")
    assert page.status_code == 200 and 'value="Alpha"' in page.get_data(as_text=True)

    resp = client.post(
        f"/authoring/modules/{ids[0]}/edit",
        data={"csrf_token": as_trainer, "title": "", "body": "x", "estimated_minutes": "5"},
    )
    assert resp.status_code == 422
    assert _titles(course.id)[0] == "Alpha"

    resp = client.post(
        f"/authoring/modules/{ids[0]}/edit",
        data={"csrf_token": as_trainer, "title": "Alpha 2", "body": "x", "estimated_minutes": "5"},
    )
    assert resp.status_code == 302
    assert _titles(course.id)[0] == "Alpha 2"


def test_video_module_replace_file_on_edit_page(client, as_trainer, trainer):
    course = CourseFactory(status="draft")
    video = modules.add_module(
        course.id, {"kind": "video", "title": "Clip"}, trainer, upload=upload(MP4, "a.mp4")
    )
    data = {
        "csrf_token": as_trainer,
        "title": "Clip",
        "estimated_minutes": "5",
        "required": "y",
        "file": (upload(MP4 + b"v2", "x").stream, "b.mp4"),
    }
    resp = client.post(
        f"/authoring/modules/{video.id}/edit", data=data, content_type="multipart/form-data"
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Module, video.id).file.filename == "b.mp4"


def test_authoring_list_search_status_filter_and_counts(client, as_trainer):
    draft = CourseFactory(status="draft", title="Forklift safety")
    live = CourseFactory(status="published", title="Cold chain")
    for n in range(3):
        ModuleFactory(course=live, position=n + 1)

    body = client.get("/authoring/courses?status=draft").get_data(as_text=True)
    assert draft.title in body and live.title not in body

    body = client.get("/authoring/courses?q=cold").get_data(as_text=True)
    assert live.title in body and draft.title not in body
    assert '<td class="num">3</td>' in body

    frag = client.get("/authoring/courses", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in frag and draft.title in frag


def test_authoring_list_paginates_with_constant_queries(client, as_trainer, count_queries):
    for n in range(5):
        ModuleFactory(course=CourseFactory(title=f"Course {n:02d}"), position=1)
    client.get("/authoring/courses")
    with count_queries() as few:
        client.get("/authoring/courses")
    for n in range(5, 45):
        ModuleFactory(course=CourseFactory(title=f"Course {n:02d}"), position=1)
    with count_queries() as many:
        body = client.get("/authoring/courses?page=2").get_data(as_text=True)
    assert len(few) == len(many)
    assert "Course 20" in body and "Course 19" not in body and "Page 2 of 3" in body
