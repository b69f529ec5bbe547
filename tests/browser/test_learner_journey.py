"""A learner's whole journey in real headless Chromium: sign in, find a course, enrol, read,
watch a video to the end, pass a quiz, and see the certificate."""

from __future__ import annotations

import re
import time
from pathlib import Path

from werkzeug.datastructures import FileStorage

from app.platform import files
from tests.helpers.jobs import run_queued_jobs
from tests.learning.factories import CourseFactory, ModuleFactory, QuizQuestionFactory
from tests.people.factories import UserFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _course():
    trainer = UserFactory(roles=["trainer"])
    course = CourseFactory(
        title="Cleanroom gowning",
        summary="Gown up for grade B areas.",
        passing_score=80,
        validity_months=12,
        status="published",
    )
    ModuleFactory(
        course=course,
        position=1,
        kind="text",
        title="Why gowning matters",
        body="Particles come from **people**.",
    )
    with (FIXTURES / "tiny.webm").open("rb") as fh:
        video = files.store_upload(
            FileStorage(stream=fh, filename="gowning.webm", content_type="video/webm"),
            "video",
            trainer,
        )
    ModuleFactory(
        course=course, position=2, kind="video", title="Gowning sequence", file_id=video.id, body=""
    )
    quiz = ModuleFactory(course=course, position=3, kind="quiz", title="Check yourself")
    for i, prompt in enumerate(["Gloves go on last.", "Hair must be covered."], start=1):
        QuizQuestionFactory(
            module=quiz,
            position=i,
            kind="true_false",
            prompt=prompt,
            options=[],
            answer={"correct": True},
            points=1,
        )
    return course


def _wait_for(page, app, text: str, seconds: float = 20) -> None:
    """Wait for text to appear, draining the job queues meanwhile (real Redis runs)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run_queued_jobs(app)
        if page.get_by_text(text).count():
            return
        page.wait_for_timeout(300)
    raise AssertionError(f"{text!r} did not appear; page: {page.inner_text('main')[:800]}")


def test_learner_goes_from_catalog_to_certificate(app, live_server, browser_page):
    course = _course()
    learner = UserFactory(name="Lena Learner", email="lena@example.com", roles=["employee"])
    page = browser_page

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", learner.email)
    page.fill("input[name=password]", "password")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/home$"))

    page.goto(f"{live_server}/courses")
    page.fill("input[name=q]", "gowning")
    page.get_by_role("link", name="Cleanroom gowning").first.click()
    page.get_by_role("button", name="Enrol").click()

    # Text module: read and mark as read.
    page.get_by_text("Particles come from").wait_for()
    page.get_by_role("button", name="Mark as read").click()
    # htmx swaps the whole player: click "Next" in the new one, not the old one being replaced.
    page.get_by_role("button", name="Mark as read").wait_for(state="detached")
    page.get_by_role("link", name=re.compile("Next: Gowning sequence")).click()

    # Video module: play it to the end; the player reports the position and completes it.
    page.wait_for_selector("video")
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; v.play(); }")
    page.get_by_text("Watched.").wait_for(timeout=20000)
    page.get_by_role("link", name=re.compile("Next: Check yourself")).click()

    # Quiz: the page holds no answers; answer, submit, wait for the grade.
    page.get_by_role("button", name="Start the quiz").click()
    for radio in page.locator("input[type=radio][value=true]").all():
        radio.check()
    page.get_by_role("button", name="Submit answers").click()
    _wait_for(page, app, "passed")

    # The completion enqueued the certificate; it shows on the learner's certificates page.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        run_queued_jobs(app)
        page.goto(f"{live_server}/certificates")
        if page.get_by_text(course.title).count():
            break
        page.wait_for_timeout(500)
    body = page.inner_text("main")
    assert course.title in body
    assert re.search(r"active", body, re.I)
    assert re.search(r"CAD-\d{4}-\d{7}", body)
