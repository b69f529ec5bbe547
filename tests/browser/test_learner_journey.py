"""A learner's whole journey in real headless Chromium: sign in, find a course, enrol, read,
watch a video to the end, pass a quiz, and see the certificate; every completion shows in the
header, the outline and the progress bar at once, without a reload."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

from pypdf import PdfReader
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


def _status_shows(page, module_title: str, status: str, percent: int) -> None:
    """Header badge, outline tick and progress bar all say the same, in the page as it is."""
    badge = page.locator("#module-head .badge")
    badge.filter(has_text=status).wait_for(timeout=20000)
    tick = {"completed": "✓", "in progress": "◐", "not started": "○"}[status]
    item = page.locator("#outline-list li", has_text=module_title)
    assert item.locator(".tick").inner_text() == tick
    bar = page.locator("#course-progress progress")
    assert bar.get_attribute("value") == str(percent)
    assert f"· {percent}%" in page.locator("#course-progress").inner_text()


def _no_reload_marker(page) -> None:
    """Mark the document: a reload or navigation would lose the mark."""
    page.evaluate("() => { window.__sameDocument = true; }")


def _same_document(page) -> bool:
    return page.evaluate("() => window.__sameDocument === true")


def test_learner_goes_from_catalog_to_certificate(app, live_server, browser_page):
    app.config["PUBLIC_BASE_URL"] = None  # the default: links follow the port served on
    app.config["PORT"] = int(live_server.rsplit(":", 1)[1])
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

    # Text module: read and mark as read; the status moves everywhere without a reload.
    page.get_by_text("Particles come from").wait_for()
    _status_shows(page, "Why gowning matters", "not started", 0)
    _no_reload_marker(page)
    page.get_by_role("button", name="Mark as read").click()
    page.get_by_role("button", name="Mark as read").wait_for(state="detached")
    _status_shows(page, "Why gowning matters", "completed", 33)
    assert _same_document(page)
    page.get_by_role("link", name=re.compile("Next: Gowning sequence")).click()

    # Video module: play it to the end; the player reports the position and completes it,
    # and the header, outline and progress bar follow in the same response.
    page.wait_for_selector("video")
    _no_reload_marker(page)
    page.evaluate("() => { const v = document.querySelector('video'); v.muted = true; v.play(); }")
    page.get_by_text("Watch again from the start").wait_for(timeout=20000)
    _status_shows(page, "Gowning sequence", "completed", 66)
    assert _same_document(page)
    assert "resume" not in page.locator("#video-status").inner_text().lower()
    page.get_by_role("link", name=re.compile("Next: Check yourself")).click()

    # Quiz, first try wrong: the learner sees what was wrong, not the right answers, and
    # how many attempts are left; the quiz allows 3 by default.
    page.get_by_role("button", name="Start the quiz").click()
    for radio in page.locator("input[type=radio][value=false]").all():
        radio.check()
    page.get_by_role("button", name="Submit answers").click()
    _wait_for(page, app, "Attempt 1: not passed")
    feedback = page.inner_text("main")
    assert "The correct answers are shown once you pass." in feedback
    assert "Correct answer" not in feedback
    assert "3 attempts (2 left)" in feedback
    _status_shows(page, "Check yourself", "in progress", 66)

    # Second try right: the page holds no answers; answer, submit, wait for the grade.
    page.get_by_role("button", name="Try again").click()
    for radio in page.locator("input[type=radio][value=true]").all():
        radio.check()
    page.get_by_role("button", name="Submit answers").click()
    _wait_for(page, app, "passed")
    _status_shows(page, "Check yourself", "completed", 100)
    page.locator("#course-progress").get_by_text("Course completed").wait_for()

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
    number = re.search(r"CAD-\d{4}-\d{7}", body).group(0)

    # The printed certificate verifies: the link in its PDF opens the public verify page of
    # the instance that printed it (the app serves on this port and has no PUBLIC_BASE_URL).
    pdf_link = page.get_by_role("link", name="Download PDF").first.get_attribute("href")
    pdf = page.request.get(f"{live_server}{pdf_link}")
    assert pdf.ok and pdf.headers["content-type"].startswith("application/pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    printed = re.search(r"https?://\S+/verify/\S+", text).group(0)
    assert printed.startswith(f"{live_server}/verify/")
    page.context.clear_cookies()  # anyone holding the paper, not the learner
    page.goto(printed)
    verified = page.inner_text("main")
    assert "Valid certificate" in verified and number in verified
