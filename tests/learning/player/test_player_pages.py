"""Player page: a panel per module kind, owner-only, outline, text/video/document progress."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.learning.models import Enrollment, Progress
from app.platform.storage import LocalStorage, get_storage
from tests.conftest import csrf
from tests.learning.factories import CourseFactory, EnrollmentFactory
from tests.learning.player.conftest import add_module, add_quiz, module_url
from tests.people.factories import UserFactory


def _progress(enrollment, module) -> Progress | None:
    db.session.expire_all()
    return db.session.scalar(
        select(Progress).where(
            Progress.enrollment_id == enrollment.id, Progress.module_id == module.id
        )
    )


PANEL_MARKERS = {
    "text": "Mark as read",
    "video": '<video class="player-video" controls preload="metadata"',
    "document": '<iframe class="player-document"',
    "quiz": "Start the quiz",
    "assignment": "Hand in",
    "scenario": "Coming soon",
    "sop": "not linked to an effective version of a controlled document",
}


@pytest.mark.parametrize("kind", list(PANEL_MARKERS))
def test_the_player_renders_a_panel_for_every_kind(client, as_learner, course, enrollment, kind):
    module = add_quiz(course) if kind == "quiz" else add_module(course, kind, title=f"The {kind}")

    resp = client.get(module_url(enrollment, module))

    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert PANEL_MARKERS[kind] in body
    assert module.title in body
    assert 'aria-label="Course outline"' in body
    assert " style=" not in body  # CSP: classes only
    assert "<script>" not in body


def test_video_and_document_link_to_their_files(client, as_learner, course, enrollment):
    video = add_module(course, "video")
    doc = add_module(course, "document")

    video_body = client.get(module_url(enrollment, video)).get_data(as_text=True)
    doc_body = client.get(module_url(enrollment, doc)).get_data(as_text=True)

    src = re.search(r'<video[^>]* src="([^"]+)"', video_body).group(1)
    iframe = re.search(r'<iframe[^>]* src="([^"]+)"', doc_body).group(1)
    if isinstance(get_storage(), LocalStorage):
        assert client.get(src, headers={"Range": "bytes=0-9"}).status_code == 206
        assert client.get(iframe).data.startswith(b"%PDF-")
    else:  # S3: presigned links that last through a long video
        assert "X-Amz-Expires=14400" in src and "X-Amz-Expires=14400" in iframe
    assert "Mark as watched" in video_body.split("<noscript>")[1]  # the no-JS fallback only
    assert "Mark as watched" not in video_body.split("<noscript>")[0]
    assert "sop-101.pdf" in doc_body and "I have read this document" in doc_body


@pytest.mark.parametrize(
    "path",
    [
        "{m}",
        "{m}/complete",
        "{m}/progress",
        "{m}/quiz",
        "{m}/assignment",
    ],
)
def test_only_the_enrolled_learner_may_use_the_player(client, auth, course, enrollment, path):
    module = add_module(course, "text")
    quiz = add_quiz(course)
    other = UserFactory(roles=["admin", "trainer", "hr"])
    auth.login(other)
    token = csrf(client, "/home")
    target = quiz if "quiz" in path else module
    url = path.format(m=module_url(enrollment, target))

    if path == "{m}":
        resp = client.get(url)
    else:
        resp = client.post(
            url, data={"csrf_token": token, "position": "5", "duration": "10", "text": "x"}
        )

    assert resp.status_code == 403
    assert _progress(enrollment, module) is None


def test_a_module_of_another_course_is_not_found(client, as_learner, enrollment):
    stranger = add_module(CourseFactory(), "text")
    assert client.get(module_url(enrollment, stranger)).status_code == 404


def test_learn_redirects_to_the_first_incomplete_module(client, as_learner, course, enrollment):
    first = add_module(course, "text")
    second = add_module(course, "text")
    db.session.add(Progress(enrollment_id=enrollment.id, module_id=first.id, status="completed"))
    db.session.commit()

    resp = client.get(f"/learn/{enrollment.id}")

    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(module_url(enrollment, second))


def test_outline_ticks_and_progress_bar_and_prev_next(client, as_learner, course, enrollment):
    first = add_module(course, "text", title="Intro")
    second = add_module(course, "text", title="Hygiene")
    third = add_module(course, "text", title="Gowning")
    db.session.add(Progress(enrollment_id=enrollment.id, module_id=first.id, status="completed"))
    db.session.commit()

    body = client.get(module_url(enrollment, second)).get_data(as_text=True)

    assert '<progress class="progress-bar" max="100" value="33"' in body
    assert "1 of 3 required modules done" in body
    assert re.search(r"status-completed[^>]*>\s*<span class=\"tick\"[^>]*>✓", body)
    assert f'href="{module_url(enrollment, first)}">← Previous: Intro' in body
    assert f'href="{module_url(enrollment, third)}">Next: Gowning' in body


def test_mark_as_read_completes_a_text_module(client, as_learner, course, enrollment):
    text = add_module(course, "text")
    add_module(course, "text")

    resp = client.post(module_url(enrollment, text, "/complete"), data={"csrf_token": as_learner})

    assert resp.status_code == 303
    row = _progress(enrollment, text)
    assert (row.status, row.percent) == ("completed", 100)
    body = client.get(module_url(enrollment, text)).get_data(as_text=True)
    assert "✓ Read on" in body and "Mark as read" not in body


def test_a_learner_cannot_mark_a_quiz_done_by_hand(client, as_learner, course, enrollment):
    quiz = add_quiz(course)
    resp = client.post(module_url(enrollment, quiz, "/complete"), data={"csrf_token": as_learner})
    assert resp.status_code == 422
    assert _progress(enrollment, quiz) is None


def test_document_acknowledgement_completes_it(client, as_learner, course, enrollment):
    doc = add_module(course, "document")
    add_module(course, "text")

    client.post(module_url(enrollment, doc, "/complete"), data={"csrf_token": as_learner})

    assert _progress(enrollment, doc).status == "completed"
    body = client.get(module_url(enrollment, doc)).get_data(as_text=True)
    assert "You acknowledged this document on" in body


def _video_post(client, token, enrollment, video, **data):
    return client.post(
        module_url(enrollment, video, "/progress"), data=data, headers={"X-CSRFToken": token}
    )


def test_video_progress_is_percent_of_duration_and_resumes(client, as_learner, course, enrollment):
    video = add_module(course, "video")
    add_module(course, "text")

    resp = _video_post(client, as_learner, enrollment, video, position="45", duration="120")

    assert resp.status_code == 200
    assert resp.json == {"status": "in_progress", "percent": 37, "position": 45.0}
    body = client.get(module_url(enrollment, video)).get_data(as_text=True)
    assert 'data-position="45.0"' in body
    assert "You can resume at 0:45" in body


def test_video_percent_never_goes_down_but_position_follows(client, as_learner, course, enrollment):
    video = add_module(course, "video")
    add_module(course, "text")
    _video_post(client, as_learner, enrollment, video, position="60", duration="100")

    resp = _video_post(client, as_learner, enrollment, video, position="10", duration="100")

    assert resp.json["percent"] == 60
    row = _progress(enrollment, video)
    assert (row.percent, row.position, row.status) == (60, 10.0, "in_progress")


@pytest.mark.parametrize(
    "position, settings, status",
    [
        ("89.9", {}, "in_progress"),
        ("90", {}, "completed"),
        ("50", {"complete_at": 0.5}, "completed"),
    ],
)
def test_video_completes_at_the_watched_share(
    client, as_learner, course, enrollment, position, settings, status
):
    video = add_module(course, "video", settings=settings)
    add_module(course, "text")

    resp = _video_post(client, as_learner, enrollment, video, position=position, duration="100")

    assert resp.json["status"] == status
    assert _progress(enrollment, video).status == status


def test_video_position_past_the_end_is_clamped(client, as_learner, course, enrollment):
    video = add_module(course, "video")
    add_module(course, "text")
    resp = _video_post(client, as_learner, enrollment, video, position="500", duration="100")
    assert resp.json == {"status": "completed", "percent": 100, "position": 100.0}


@pytest.mark.parametrize(
    "data",
    [
        {"position": "-1", "duration": "100"},
        {"position": "5"},
        {"position": "abc", "duration": "100"},
        {"position": "5", "duration": "0"},
        {"position": "nan", "duration": "100"},
    ],
)
def test_bad_video_reports_are_refused(client, as_learner, course, enrollment, data):
    video = add_module(course, "video")
    resp = _video_post(client, as_learner, enrollment, video, **data)
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    assert _progress(enrollment, video) is None


def test_video_progress_needs_the_csrf_header(client, as_learner, course, enrollment):
    video = add_module(course, "video")
    resp = client.post(
        module_url(enrollment, video, "/progress"), data={"position": "5", "duration": "10"}
    )
    assert resp.status_code == 400
    assert _progress(enrollment, video) is None


def test_finishing_every_module_completes_the_enrollment(client, as_learner, course, enrollment):
    text = add_module(course, "text")
    video = add_module(course, "video")

    client.post(module_url(enrollment, text, "/complete"), data={"csrf_token": as_learner})
    _video_post(client, as_learner, enrollment, video, position="100", duration="100")

    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).status == "completed"
    body = client.get(module_url(enrollment, video)).get_data(as_text=True)
    assert "Course completed" in body


def test_a_required_sop_module_keeps_the_course_open(client, as_learner, course, enrollment):
    text = add_module(course, "text")
    sop = add_module(course, "sop")

    client.post(module_url(enrollment, text, "/complete"), data={"csrf_token": as_learner})

    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).status == "in_progress"
    body = client.get(module_url(enrollment, sop)).get_data(as_text=True)
    assert "The module is required" in body


def test_an_optional_scenario_does_not_block_completion(client, as_learner, course, enrollment):
    text = add_module(course, "text")
    add_module(course, "scenario", required=False)

    client.post(module_url(enrollment, text, "/complete"), data={"csrf_token": as_learner})

    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).status == "completed"


def test_player_page_query_count_does_not_grow_with_modules(
    client, as_learner, course, enrollment, count_queries
):
    modules = [add_module(course, "text") for _ in range(3)]
    with count_queries() as few:
        client.get(module_url(enrollment, modules[0]))
    for _ in range(12):
        add_module(course, "text")
    with count_queries() as many:
        client.get(module_url(enrollment, modules[0]))
    assert len(many) == len(few)


def test_someone_elses_enrollment_is_403_even_for_the_same_course(client, auth, course, enrollment):
    text = add_module(course, "text")
    colleague = UserFactory()
    EnrollmentFactory(user=colleague, course=course)
    auth.login(colleague)
    assert client.get(module_url(enrollment, text)).status_code == 403
