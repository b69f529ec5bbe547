"""The catalog's shared cache: changes show at once, here and in other processes; nothing
per user is shared between viewers."""

from __future__ import annotations

import os
import re
import time
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from app import create_app
from app.extensions import db
from app.learning import courses
from app.platform import clock
from tests.conftest import Auth, FreshContextClient, csrf
from tests.learning.factories import CourseFactory, ModuleFactory
from tests.people.factories import UserFactory


def _titles(body: str) -> list[str]:
    return re.findall(r'<h3><a href="/courses/\d+">([^<]+)</a></h3>', body)


@pytest.fixture
def other_process(app):
    """A second app on the same database: another gunicorn worker, with its own caches."""
    same = ("TESTING", "SERVER_NAME", "RQ_QUEUE_PREFIX", "STORAGE_DIR", "SQLALCHEMY_DATABASE_URI")
    other = create_app({name: app.config[name] for name in same if name in app.config})
    other.test_client_class = FreshContextClient
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def course_queries(flask_app):
    """Collect the statements `flask_app` runs that read course rows (not the fingerprint)."""
    with flask_app.app_context():
        engine = db.engine
    statements: list[str] = []

    def before(conn, cursor, statement, *args):
        if "training_courses.title" in statement or "training_courses.category" in statement:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_publish_edit_and_retire_in_one_process_show_at_once_in_another(
    app, client, as_trainer, other_process
):
    CourseFactory(title="Already live", category="Quality")
    course = CourseFactory(title="Forklift basics", status="draft", category="Logistics")
    ModuleFactory(course=course, position=1)
    learner = UserFactory(roles=["employee"])
    browser = other_process.test_client()
    Auth(browser).login(learner)

    first = browser.get("/courses").get_data(as_text=True)
    assert _titles(first) == ["Already live"]
    assert ">Logistics</option>" not in first
    with course_queries(other_process) as reads:
        assert _titles(browser.get("/courses").get_data(as_text=True)) == ["Already live"]
    assert reads == []  # the other process serves its cached page

    # Publish here (as a trainer through the authoring page): the other process shows it.
    resp = client.post(f"/authoring/courses/{course.id}/publish", data={"csrf_token": as_trainer})
    assert resp.status_code == 302
    page = browser.get("/courses").get_data(as_text=True)
    assert _titles(page) == ["Already live", "Forklift basics"]
    assert ">Logistics</option>" in page  # the filter menus follow too

    # Edit here through the service: the other process shows the new title, page and fragment.
    courses.update_course(course.id, {"title": "Forklift safety"})
    assert _titles(browser.get("/courses").get_data(as_text=True)) == [
        "Already live",
        "Forklift safety",
    ]
    fragment = browser.get("/courses?q=forklift", headers={"HX-Request": "true"})
    assert _titles(fragment.get_data(as_text=True)) == ["Forklift safety"]

    # Retire here: gone over there, from the page, the search fragment and the menus.
    resp = client.post(f"/authoring/courses/{course.id}/retire", data={"csrf_token": as_trainer})
    assert resp.status_code == 302
    page = browser.get("/courses").get_data(as_text=True)
    assert _titles(page) == ["Already live"]
    assert ">Logistics</option>" not in page
    fragment = browser.get("/courses?q=forklift", headers={"HX-Request": "true"})
    assert "No courses match your search." in fragment.get_data(as_text=True)


def test_a_deleted_course_leaves_the_other_process_at_once(app, client, as_trainer, other_process):
    course = CourseFactory(title="Short lived")
    CourseFactory(title="Stays")
    browser = other_process.test_client()
    Auth(browser).login(UserFactory(roles=["employee"]))
    assert _titles(browser.get("/courses").get_data(as_text=True)) == ["Short lived", "Stays"]

    resp = client.post(f"/authoring/courses/{course.id}/delete", data={"csrf_token": as_trainer})
    assert resp.status_code == 302

    assert _titles(browser.get("/courses").get_data(as_text=True)) == ["Stays"]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_with_redis_any_catalog_change_moves_every_process_generation(app, other_process):
    # Even a change the courses table does not show (two commits out of timestamp order,
    # say) reaches the other process: the Redis counter is part of its generation.
    with other_process.app_context():
        before = courses.catalog_generation()
    courses.catalog_changed()
    with other_process.app_context():
        assert courses.catalog_generation() != before


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_with_redis_orm_writes_show_at_once_and_bulk_sql_after_the_fingerprint_ttl(
    app, other_process
):
    # With Redis the other process skips the courses-table fingerprint between checks: any
    # commit through the ORM (a factory here, no service call) still shows at once, and a
    # change made behind the app's back shows once the fingerprint is due again.
    other_process.config["CATALOG_FINGERPRINT_SECONDS"] = 1.5
    CourseFactory(title="First")
    browser = other_process.test_client()
    Auth(browser).login(UserFactory(roles=["employee"]))
    assert _titles(browser.get("/courses").get_data(as_text=True)) == ["First"]

    CourseFactory(title="Second")  # an ORM commit: the Redis counter moves with it
    assert _titles(browser.get("/courses").get_data(as_text=True)) == ["First", "Second"]

    time.sleep(1.6)
    browser.get("/courses")  # the fingerprint is due: read now, good for the next 1.5 s
    db.session.execute(
        text(
            "UPDATE training_courses SET title = 'Renamed', updated_at = :now"
            " WHERE title = 'Second'"
        ),
        {"now": clock.now()},
    )
    db.session.commit()
    assert _titles(browser.get("/courses").get_data(as_text=True)) == ["First", "Second"]
    time.sleep(1.6)
    assert _titles(browser.get("/courses").get_data(as_text=True)) == ["First", "Renamed"]


def test_each_viewer_gets_their_own_nav_and_token_around_the_shared_results(app, client, auth):
    CourseFactory(title="Live")
    CourseFactory(title="Secret draft", status="draft")
    ann = UserFactory(roles=["employee"], name="Ann Able")
    ben = UserFactory(roles=["employee"], name="Ben Baker")
    tess = UserFactory(roles=["trainer"], name="Tess Trainer")
    browsers = {}
    for user in (ann, ben, tess):
        browsers[user.name] = app.test_client()
        Auth(browsers[user.name]).login(user)

    pages = {name: b.get("/courses").get_data(as_text=True) for name, b in browsers.items()}

    for name, page in pages.items():
        assert _titles(page) == ["Live"]
        assert f">{name}</a>" in page
        assert all(f">{other}</a>" not in page for other in pages if other != name)
    # Each page carries its own session's CSRF token, which that session can post with.
    tokens = {n: re.search(r'"X-CSRFToken": "([^"]+)"', p).group(1) for n, p in pages.items()}
    resp = browsers["Ben Baker"].post("/logout", data={"csrf_token": tokens["Ben Baker"]})
    assert resp.status_code == 302
    # The trainer's filters (status, authoring) are not shown to learners, nor the reverse.
    assert 'name="status"' in pages["Tess Trainer"] and "Authoring" in pages["Tess Trainer"]
    assert 'name="status"' not in pages["Ann Able"] and "Authoring" not in pages["Ann Able"]


def test_an_authors_draft_listing_is_never_served_to_a_learner(app, client, auth):
    CourseFactory(title="Live")
    CourseFactory(title="Secret draft", status="draft")
    trainer_browser = app.test_client()
    Auth(trainer_browser).login(UserFactory(roles=["trainer"]))
    auth.login(UserFactory(roles=["employee"]))

    for url in ("/courses?status=any", "/courses?status=draft&page=1"):
        assert "Secret draft" in trainer_browser.get(url).get_data(as_text=True)
        assert "Secret draft" not in client.get(url).get_data(as_text=True)
        fragment = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "Secret draft" not in fragment


def test_junk_in_the_query_string_does_not_reach_the_shared_pager(client, as_learner):
    for n in range(21):
        CourseFactory(title=f"Course {n:02d}")
    client.get("/courses?utm_source=mail&sort=title&page=1")
    body = client.get("/courses").get_data(as_text=True)
    assert 'href="/courses?page=2"' in body
    assert "utm_source" not in client.get("/courses?utm_source=x").get_data(as_text=True)


def test_an_unchanged_session_cookie_is_not_resent_on_every_page(client, auth):
    auth.login(UserFactory())
    client.get("/courses")
    for _ in range(3):
        resp = client.get("/courses")
        assert resp.status_code == 200
        assert "cadre_session" not in resp.headers.get("Set-Cookie", "")
    assert csrf(client, "/courses")  # the page still carries a token


def test_activity_still_pushes_the_idle_timeout_back(app, client, auth):
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=2)
    auth.login(UserFactory())
    for _ in range(2):
        time.sleep(1.2)
        resp = client.get("/courses")
        assert resp.status_code == 200  # 2.4 s after sign-in, active all along
        assert "cadre_session" in resp.headers.get("Set-Cookie", "")
    time.sleep(3.1)  # signatures count whole seconds
    assert client.get("/courses").status_code == 302
