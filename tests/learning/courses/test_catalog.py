"""CourseCatalog: active search, filters, sort, pagination, drafts hidden, detail page."""

from __future__ import annotations

import re

from tests.learning.factories import CourseFactory, ModuleFactory
from tests.people.factories import UserFactory


def _titles(body: str) -> list[str]:
    return re.findall(r'<h3><a href="/courses/\d+">([^<]+)</a></h3>', body)


def _results(body: str) -> str:
    """The results part of the catalog page."""
    return body[body.index('id="catalog-results"') : body.index("</main>")]


def test_search_matches_a_word_in_the_summary_and_a_tag(client, as_learner):
    CourseFactory(title="Clean rooms", summary="How to gown for the **sterile** area.")
    CourseFactory(title="Forklifts", summary="Driving safely.", tags=",warehouse,safety,")
    CourseFactory(title="Unrelated", summary="Nothing here.")

    assert _titles(client.get("/courses?q=sterile").get_data(as_text=True)) == ["Clean rooms"]
    assert _titles(client.get("/courses?q=WAREHOUSE").get_data(as_text=True)) == ["Forklifts"]
    assert _titles(client.get("/courses?q=gown+area").get_data(as_text=True)) == ["Clean rooms"]


def test_filters_narrow_the_results(client, as_learner):
    CourseFactory(title="A", category="Quality", level="beginner", language="en", mandatory=True)
    CourseFactory(title="B", category="Quality", level="advanced", language="de")
    CourseFactory(
        title="C", category="Logistics", level="beginner", language="en", is_onboarding=True
    )

    def titles(qs):
        return _titles(client.get(f"/courses?{qs}").get_data(as_text=True))

    assert titles("category=Quality") == ["A", "B"]
    assert titles("level=beginner") == ["A", "C"]
    assert titles("language=de") == ["B"]
    assert titles("mandatory=1") == ["A"]
    assert titles("mandatory=0") == ["B", "C"]
    assert titles("onboarding=1") == ["C"]
    assert titles("category=Quality&level=beginner") == ["A"]
    assert titles("category=Nope") == []
    assert "No courses match your search." in client.get("/courses?q=zzz").get_data(as_text=True)


def test_sort_orders(client, as_learner):
    CourseFactory(title="Medium", estimated_minutes=30)
    CourseFactory(title="Long", estimated_minutes=90)
    CourseFactory(title="Short", estimated_minutes=5)

    def titles(sort):
        return _titles(client.get(f"/courses?sort={sort}").get_data(as_text=True))

    assert titles("title") == ["Long", "Medium", "Short"]
    assert titles("shortest") == ["Short", "Medium", "Long"]
    assert titles("longest") == ["Long", "Medium", "Short"]
    assert titles("newest") == ["Short", "Long", "Medium"]


def test_cards_show_facts_badges_tags_and_plain_text_summary(client, as_learner):
    CourseFactory(
        title="Hygiene",
        code="HYG-1",
        category="Quality",
        level="intermediate",
        language="fr",
        estimated_minutes=25,
        mandatory=True,
        is_onboarding=True,
        tags=",gmp,",
        summary="Wash **hands** <script>alert(1)</script>",
    )
    body = client.get("/courses").get_data(as_text=True)
    for text in ("HYG-1", "Quality", "Intermediate", "fr", "25 min", "Mandatory", "Onboarding"):
        assert text in body
    assert '<span class="tag">gmp</span>' in body
    assert "Wash **hands** &lt;script&gt;" in body  # plain text, escaped, not rendered
    assert "<script>alert" not in body
    assert "1 course found" in body


def test_drafts_and_retired_courses_are_hidden_from_learners(client, as_learner):
    live = CourseFactory(title="Live", status="published")
    draft = CourseFactory(title="Secret draft", status="draft")
    retired = CourseFactory(title="Old one", status="retired")

    assert _titles(client.get("/courses?status=any").get_data(as_text=True)) == ["Live"]
    assert client.get(f"/courses/{live.id}").status_code == 200
    assert client.get(f"/courses/{draft.id}").status_code == 404
    assert client.get(f"/courses/{retired.id}").status_code == 404
    assert 'name="status"' not in client.get("/courses").get_data(as_text=True)


def test_authors_may_filter_by_status_and_open_drafts(client, auth):
    auth.login(UserFactory(roles=["trainer"]))
    CourseFactory(title="Live", status="published")
    draft = CourseFactory(title="Draft", status="draft")

    assert 'name="status"' in client.get("/courses").get_data(as_text=True)
    assert _titles(client.get("/courses").get_data(as_text=True)) == ["Live"]
    assert _titles(client.get("/courses?status=draft").get_data(as_text=True)) == ["Draft"]
    assert _titles(client.get("/courses?status=any").get_data(as_text=True)) == ["Draft", "Live"]
    assert client.get(f"/courses/{draft.id}").status_code == 200


def test_htmx_request_gets_only_the_results_fragment(client, as_learner):
    CourseFactory(title="Forklifts")

    full = client.get("/courses?q=fork")
    frag = client.get("/courses?q=fork", headers={"HX-Request": "true"})

    full_body, frag_body = full.get_data(as_text=True), frag.get_data(as_text=True)
    assert "<html" in full_body and 'id="catalog-results"' in full_body
    assert "<html" not in frag_body and "<form" not in frag_body
    assert _titles(frag_body) == ["Forklifts"]
    assert "HX-Request" in frag.headers.get("Vary", "")


def test_search_box_is_wired_for_active_search_and_works_without_js(client, as_learner):
    body = client.get("/courses").get_data(as_text=True)
    assert 'hx-trigger="input changed delay:300ms, search"' in body
    assert 'hx-target="#catalog-results"' in body and 'hx-push-url="true"' in body
    assert re.search(r'<form[^>]*method="get"[^>]*action="/courses"', body)
    assert '<button class="btn btn-primary" type="submit">Search</button>' in body


def test_pagination_keeps_the_filters(client, as_learner):
    for n in range(25):
        CourseFactory(title=f"Safety {n:02d}", category="Safety")
    CourseFactory(title="Other", category="Quality")

    first = client.get("/courses?category=Safety").get_data(as_text=True)
    assert len(_titles(first)) == 20
    assert "25 courses found" in first and "Page 1 of 2" in first
    assert "/courses?category=Safety&amp;page=2" in first

    second = client.get("/courses?category=Safety&page=2").get_data(as_text=True)
    assert _titles(second) == [f"Safety {n}" for n in range(20, 25)]


def test_catalog_query_count_does_not_grow_with_courses(client, as_learner, count_queries):
    # Each measured request follows a change, so both miss the catalog cache and search.
    for _ in range(5):
        CourseFactory(tags=",a,b,")
    with count_queries() as few:
        assert client.get("/courses").status_code == 200
    for _ in range(35):
        CourseFactory(tags=",a,b,")
    with count_queries() as many:
        body = client.get("/courses").get_data(as_text=True)
    assert len(_titles(body)) == 20
    assert len(few) == len(many)
    # The same page again is served from the cache: no search, no menus, same markup.
    with count_queries() as again:
        repeat = client.get("/courses").get_data(as_text=True)
    assert _results(repeat) == _results(body)
    assert len(again) < len(many)
    assert not any("training_courses.title" in sql for sql in again)


def test_detail_page_shows_summary_facts_outline_and_tags(client, as_learner):
    course = CourseFactory(
        title="Cold chain",
        summary="Keep it **cold**. <script>alert(1)</script>",
        passing_score=75,
        validity_months=12,
        estimated_minutes=40,
        version=3,
        tags=",temperature,",
    )
    ModuleFactory(course=course, position=2, kind="quiz", title="Final check", estimated_minutes=7)
    ModuleFactory(course=course, position=1, kind="text", title="Why cold", estimated_minutes=5)

    body = client.get(f"/courses/{course.id}").get_data(as_text=True)

    assert "<strong>cold</strong>" in body and "<script>alert" not in body
    assert "75%" in body and "12 months" in body and "40 min" in body
    assert "<dt>Version</dt><dd>3</dd>" in body
    assert body.index("Why cold") < body.index("Final check")
    assert "Quiz" in body and "7 min" in body
    assert "temperature" in body


def test_detail_of_missing_course_is_404(client, as_learner):
    assert client.get("/courses/999").status_code == 404
