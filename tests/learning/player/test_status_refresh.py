"""Every completion shows at once: header status, progress bar and outline tick move together.

htmx answers carry them as out-of-band swaps rendered by the page's own partials; a plain form
post redirects (303) to the page, which shows the same truth.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from app.extensions import db
from app.learning import assignments, quizzes
from app.learning.jobs import grade_quiz_attempt
from app.learning.models import Progress
from app.platform import clock
from tests.helpers.jobs import run_queued_jobs
from tests.learning.player.conftest import (
    add_module,
    add_quiz,
    attempt_id,
    correct_answers,
    module_url,
    no_html_page,
)
from tests.people.factories import UserFactory

HTMX = {"HX-Request": "true"}


class _Elements(HTMLParser):
    """Each element with an id: its attributes and its text (enough to read a fragment)."""

    VOID = {"input", "br", "img", "meta", "link", "hr", "source"}

    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, dict] = {}
        self.open: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.VOID:
            return
        element_id = attrs.get("id")
        if element_id:
            self.found[element_id] = {"attrs": attrs, "text": "", "html": ""}
        self.open.append((tag, element_id))
        self._feed_html(self.get_starttag_text())

    def handle_endtag(self, tag):
        self._feed_html(f"</{tag}>")
        while self.open:
            open_tag, _ = self.open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        self._feed_html(data)
        for _, element_id in self.open:
            if element_id:
                self.found[element_id]["text"] += data

    def _feed_html(self, chunk: str) -> None:
        for _, element_id in self.open:
            if element_id:
                self.found[element_id]["html"] += chunk


def elements(body: str) -> dict[str, dict]:
    parser = _Elements()
    parser.feed(body)
    for element in parser.found.values():
        element["text"] = " ".join(element["text"].split())
    return parser.found


def assert_status_oob(body: str, module, status: str, percent: int, done: int, total: int):
    """The htmx answer re-sends the header, progress bar and outline with the new truth."""
    found = elements(body)
    head, progress, outline = found["module-head"], found["course-progress"], found["outline-list"]
    for part in (head, progress, outline):
        assert part["attrs"].get("hx-swap-oob") == "true"
    assert head["text"].endswith(status.replace("_", " "))
    assert module.title in head["text"]
    assert f'value="{percent}"' in progress["html"]
    assert f"{done} of {total} required modules done · {percent}%" in progress["text"]
    tick = {"completed": "✓", "in_progress": "◐", "not_started": "○"}[status]
    assert f"{tick} {module.title} ({status.replace('_', ' ')})" in outline["text"]


def assert_page_shows(client, enrollment, module, status: str, percent: int):
    """The full page (after a no-JavaScript redirect) tells the same story."""
    found = elements(client.get(module_url(enrollment, module)).get_data(as_text=True))
    assert found["module-head"]["text"].endswith(status.replace("_", " "))
    assert f'value="{percent}"' in found["course-progress"]["html"]
    assert f"{module.title} ({status.replace('_', ' ')})" in found["outline-list"]["text"]
    assert "hx-swap-oob" not in found["player"]["html"]


@pytest.mark.parametrize("kind, done_note", [("text", "✓ Read on"), ("document", "acknowledged")])
def test_marking_done_over_htmx_swaps_the_panel_and_the_status(
    client, as_learner, course, enrollment, kind, done_note
):
    module = add_module(course, kind, title=f"The {kind}")
    add_module(course, "text")

    resp = client.post(
        module_url(enrollment, module, "/complete"), data={"csrf_token": as_learner}, headers=HTMX
    )

    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and no_html_page(body)
    assert 'id="player"' not in body  # the panel only, the rest out of band
    assert done_note in body.split('id="module-head"')[0]
    assert_status_oob(body, module, "completed", 50, 1, 2)
    assert "HX-Request" in resp.headers["Vary"]


@pytest.mark.parametrize("kind", ["text", "document", "video"])
def test_marking_done_without_javascript_redirects_to_the_same_truth(
    client, as_learner, course, enrollment, kind
):
    module = add_module(course, kind, title=f"The {kind}")
    add_module(course, "text")

    resp = client.post(module_url(enrollment, module, "/complete"), data={"csrf_token": as_learner})

    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(module_url(enrollment, module))
    assert_page_shows(client, enrollment, module, "completed", 50)


def _video_report(client, token, enrollment, video, position, duration, **headers):
    return client.post(
        module_url(enrollment, video, "/progress"),
        data={"position": position, "duration": duration},
        headers={"X-CSRFToken": token, **headers},
    )


def test_a_video_played_to_the_end_updates_header_outline_and_progress(
    client, as_learner, course, enrollment
):
    add_module(course, "text")
    video = add_module(course, "video", title="Gowning sequence")
    for _ in range(2):
        add_module(course, "text")

    playing = _video_report(client, as_learner, enrollment, video, "1.0", "5.0", **HTMX)
    ended = _video_report(client, as_learner, enrollment, video, "5.0", "5.0", **HTMX)

    body = playing.get_data(as_text=True)
    assert "Watched so far: 20%" in elements(body)["video-status"]["text"]
    assert_status_oob(body, video, "in_progress", 0, 0, 4)
    body = ended.get_data(as_text=True)
    assert ended.status_code == 200 and no_html_page(body)
    assert elements(body)["video-status"]["text"].startswith("✓ Watched on")
    assert_status_oob(body, video, "completed", 25, 1, 4)
    assert_page_shows(client, enrollment, video, "completed", 25)


def test_the_last_completion_says_the_course_is_complete(client, as_learner, course, enrollment):
    video = add_module(course, "video")

    resp = _video_report(client, as_learner, enrollment, video, "9.5", "10", **HTMX)

    assert "Course completed" in elements(resp.get_data(as_text=True))["course-progress"]["text"]


def test_without_htmx_the_video_report_stays_json(client, as_learner, course, enrollment):
    video = add_module(course, "video")
    resp = _video_report(client, as_learner, enrollment, video, "2", "10")
    assert resp.json == {"status": "in_progress", "percent": 20, "position": 2.0}


def test_a_watched_video_offers_watch_again_not_a_resume_past_its_end(
    client, as_learner, course, enrollment
):
    video = add_module(course, "video")
    add_module(course, "text")
    # The browser first guessed 5 s, then learnt the clip is 5.96 s long and reported its end.
    _video_report(client, as_learner, enrollment, video, "4.0", "5.0")
    _video_report(client, as_learner, enrollment, video, "6.2", "5.96")

    row = db.session.get(Progress, _row_id(enrollment, video))
    assert row.position == 6.0  # clamped to the reported length
    page = client.get(module_url(enrollment, video)).get_data(as_text=True)
    status = elements(page)["video-status"]["text"]
    assert "Watch again from the start" in status
    assert "resume" not in status.lower()
    assert 'data-position="0"' in page  # the next play starts at the beginning


def test_an_unfinished_video_resumes_where_it_stopped(client, as_learner, course, enrollment):
    video = add_module(course, "video")
    _video_report(client, as_learner, enrollment, video, "65", "120")

    page = client.get(module_url(enrollment, video)).get_data(as_text=True)

    assert "You can resume at 1:05." in elements(page)["video-status"]["text"]
    assert 'data-position="65.0"' in page


def _row_id(enrollment, module) -> int:
    db.session.expire_all()
    return (
        db.session.query(Progress.id)
        .filter_by(enrollment_id=enrollment.id, module_id=module.id)
        .scalar()
    )


def test_a_graded_quiz_updates_the_status_when_the_poll_sees_the_grade(
    client, as_learner, course, enrollment, learner
):
    quiz = add_quiz(course, title="Check yourself")
    add_module(course, "text")
    attempt = quizzes.start_attempt(enrollment.id, quiz.id, learner)
    answers = {k[2:]: v for k, v in correct_answers(attempt).items()}
    attempt.answers = quizzes.validate_answers(attempt, answers)
    attempt.status, attempt.submitted_at = "submitted", clock.now()
    db.session.commit()
    url = module_url(enrollment, quiz, f"/attempts/{attempt.id}")

    waiting = client.get(url, headers=HTMX).get_data(as_text=True)
    grade_quiz_attempt(attempt.id)
    graded = client.get(url, headers=HTMX).get_data(as_text=True)

    assert "module-head" not in waiting  # nothing to tell until graded
    assert "passed" in elements(graded)[f"attempt-{attempt.id}"]["text"]
    assert_status_oob(graded, quiz, "completed", 50, 1, 2)


def test_a_quiz_submitted_without_javascript_shows_its_grade_on_the_page(
    client, as_learner, course, enrollment
):
    quiz = add_quiz(course, title="Check yourself")
    add_module(course, "text")
    client.post(module_url(enrollment, quiz, "/quiz"), data={"csrf_token": as_learner})
    body = client.get(module_url(enrollment, quiz)).get_data(as_text=True)
    rid = attempt_id(body)
    result = quizzes.get_attempt(rid, enrollment.user)

    resp = client.post(
        module_url(enrollment, quiz, f"/attempts/{rid}"),
        data={"csrf_token": as_learner, **correct_answers(result)},
    )
    run_queued_jobs(client.application)

    assert resp.status_code in (302, 303)
    assert_page_shows(client, enrollment, quiz, "completed", 50)


def test_an_assignment_shows_submitted_then_graded_on_the_page(
    client, auth, as_learner, course, enrollment
):
    work = add_module(
        course,
        "assignment",
        title="Deviation write-up",
        settings={"rubric": [{"criterion": "Root cause", "points": 10}]},
    )
    add_module(course, "text")

    resp = client.post(
        module_url(enrollment, work, "/assignment"),
        data={"csrf_token": as_learner, "text": "Torn glove."},
        content_type="multipart/form-data",
    )

    assert resp.status_code == 303
    assert "Submitted" in client.get(module_url(enrollment, work)).get_data(as_text=True)
    assert_page_shows(client, enrollment, work, "in_progress", 0)  # handed in, not graded yet
    [submission] = assignments.grading_queue(1, 20).items
    trainer = UserFactory(roles=["trainer"])
    assignments.grade_assignment(submission.id, {"0": "9"}, "Good.", trainer, password="password")
    assert_page_shows(client, enrollment, work, "completed", 50)


def test_handing_in_over_htmx_swaps_the_panel_and_the_status(
    client, as_learner, course, enrollment
):
    work = add_module(course, "assignment", title="Deviation write-up")
    add_module(course, "text")
    url = module_url(enrollment, work, "/assignment")

    empty = client.post(
        url,
        data={"csrf_token": as_learner, "text": ""},
        content_type="multipart/form-data",
        headers=HTMX,
    )
    handed_in = client.post(
        url,
        data={"csrf_token": as_learner, "text": "Torn glove."},
        content_type="multipart/form-data",
        headers=HTMX,
    )

    # htmx swaps only 2xx answers: the refusal comes back as the panel with its field error.
    assert empty.status_code == 200 and "Write an answer or attach a PDF." in empty.get_data(
        as_text=True
    )
    body = handed_in.get_data(as_text=True)
    assert handed_in.status_code == 200 and no_html_page(body)
    assert "Torn glove." in body and "Replace your submission" in body
    assert_status_oob(body, work, "in_progress", 0, 0, 2)
