"""The TrainingDashboard on /home: my training by section, progress bars, my team, query count."""

from __future__ import annotations

import re
from datetime import timedelta

from app.learning.models import Enrollment
from app.learning.web.enroll.routes import continue_url
from app.platform import clock
from tests.learning.enrollments.conftest import count, course_with_modules, progress_row
from tests.learning.factories import CourseFactory, EnrollmentFactory
from tests.people.factories import UserFactory


def _section(html: str, name: str) -> str:
    """The markup of one dashboard section (empty string when it is not shown)."""
    m = re.search(rf'<section class="card training-group training-{name}".*?</section>', html, re.S)
    return m.group(0) if m else ""


def _bar(html: str, enrollment_id: int) -> tuple[str, str]:
    item = re.search(rf'id="enrollment-{enrollment_id}".*?</li>', html, re.S).group(0)
    m = re.search(r'role="progressbar"[^>]*aria-valuenow="(\d+)"[^>]*><span class="(w-\d+)"', item)
    return m.group(1), m.group(2)


def test_dashboard_groups_my_training_with_due_dates_and_progress(client, signed_in, learner):
    today = clock.today()
    late, _ = course_with_modules(("text", "text"), title="Late Course")
    going, going_modules = course_with_modules(("text", "text", "text"), title="Going Course")
    fresh, _ = course_with_modules(("text",), title="Fresh Course")
    done, _ = course_with_modules(("text",), title="Done Course")
    e_late = EnrollmentFactory(
        user=learner, course=late, status="in_progress", due_date=today - timedelta(days=3)
    )
    e_going = EnrollmentFactory(
        user=learner, course=going, status="in_progress", due_date=today + timedelta(days=10)
    )
    progress_row(e_going, going_modules[0])
    e_fresh = EnrollmentFactory(user=learner, course=fresh)
    e_done = EnrollmentFactory(user=learner, course=done, status="completed")
    signed_in(learner)

    html = client.get("/home").get_data(as_text=True)

    overdue = _section(html, "overdue")
    assert "Late Course" in overdue and (today - timedelta(days=3)).isoformat() in overdue
    assert "Going Course" in _section(html, "in_progress")
    assert (today + timedelta(days=10)).isoformat() in _section(html, "in_progress")
    assert "Fresh Course" in _section(html, "assigned")
    assert "Done Course" in _section(html, "completed")
    assert "Late Course" not in _section(html, "in_progress")
    assert _bar(html, e_going.id) == ("33", "w-30")
    assert _bar(html, e_late.id) == ("0", "w-0")
    assert _bar(html, e_done.id) == ("100", "w-100")
    assert _bar(html, e_fresh.id) == ("0", "w-0")
    assert 'style="' not in html  # CSP: no inline styles
    assert "<strong>1</strong> overdue" in html and "<strong>1</strong> completed" in html
    # Each course has a way to go on: the player at the next module, else the course page.
    with client.application.test_request_context():
        expected = continue_url(e_going.id, going_modules[1].id, going.id)
    item = re.search(rf'id="enrollment-{e_going.id}".*?</li>', html, re.S).group(0)
    assert f'href="{expected}">Continue' in item
    assert 'id="team-training"' not in html  # not a manager


def test_empty_dashboard_points_to_the_catalog(client, signed_in, learner):
    signed_in(learner)
    html = client.get("/home").get_data(as_text=True)
    assert "You have no training yet." in html
    assert 'href="/courses"' in html


def test_team_section_for_a_manager(client, signed_in):
    boss = UserFactory(roles=["manager", "employee"])
    ann = UserFactory(manager=boss, name="Ann Able")
    bob = UserFactory(manager=boss, name="Bob Busy")
    UserFactory(manager=boss, name="Gone Person", active=False)
    UserFactory(name="Not Mine")
    course, modules = course_with_modules(("text", "text"))
    e = EnrollmentFactory(user=ann, course=course, status="in_progress")
    progress_row(e, modules[0])
    EnrollmentFactory(user=ann, course=CourseFactory(), due_date=clock.today() - timedelta(days=1))
    EnrollmentFactory(user=bob, course=course_with_modules(("text",))[0], status="completed")
    signed_in(boss)

    html = client.get("/home").get_data(as_text=True)
    team = re.search(r'<section id="team-training".*?</section>', html, re.S).group(0)
    assert "Not Mine" not in team and "Gone Person" not in team
    ann_row = re.search(rf'<tr id="report-{ann.id}">.*?</tr>', team, re.S).group(0)
    cells = re.findall(r'<td data-label="\w+" class="num">(.*?)</td>', ann_row, re.S)
    assert [re.sub(r"<[^>]+>", " ", c).split()[0] for c in cells] == ["1", "1", "0"]
    # The overdue course serves no requirement: said so, apart from the requirements.
    assert "other training" in cells[1]
    # 1 of 2 required modules done; the overdue course has no modules.
    assert 'aria-valuenow="50"' in ann_row and 'class="w-50"' in ann_row
    bob_row = re.search(rf'<tr id="report-{bob.id}">.*?</tr>', team, re.S).group(0)
    assert 'aria-valuenow="100"' in bob_row


def test_manager_without_reports_sees_an_empty_team(client, signed_in):
    signed_in(UserFactory(roles=["manager"]))
    assert "Nobody reports to you yet." in client.get("/home").get_data(as_text=True)


def _seed(user, n: int) -> None:
    for i in range(n):
        course, modules = course_with_modules(("text", "text", "quiz"))
        status = ("assigned", "in_progress", "completed")[i % 3]
        e = EnrollmentFactory(
            user=user, course=course, status=status, due_date=clock.today() + timedelta(days=i - 5)
        )
        if status != "assigned":
            progress_row(e, modules[0])


def test_dashboard_query_count_does_not_grow_with_enrollments(
    client, auth, signed_in, count_queries
):
    def queries_for(n: int) -> int:
        boss = UserFactory(roles=["manager"])
        reports = [UserFactory(manager=boss) for _ in range(2)]
        for person in (boss, *reports):
            _seed(person, n)
        signed_in(boss)
        with count_queries() as statements:
            resp = client.get("/home")
        auth.logout()
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200
        # n bars of my own, one overall bar per report.
        assert html.count('role="progressbar"') == n + len(reports)
        return len(statements)

    few, many = queries_for(3), queries_for(15)
    assert count(Enrollment) == 3 * 3 + 3 * 15
    assert few == many, (few, many)
