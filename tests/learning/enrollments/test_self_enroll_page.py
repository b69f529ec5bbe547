"""POST /enroll/courses/<id>: self-enrolment from the course page (plain form post)."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from sqlalchemy import select

from app.extensions import db
from app.learning.certificates import status_from_dates as certification_status
from app.learning.models import Enrollment
from app.platform import clock
from tests.learning.enrollments.conftest import count, course_with_modules
from tests.learning.factories import CourseFactory


def test_self_enrol_then_land_on_the_first_module_or_home(app, client, signed_in, learner):
    course, (first, _) = course_with_modules(("text", "text"), title="Forklift Safety")
    token = signed_in(learner)

    resp = client.post(f"/enroll/courses/{course.id}", data={"csrf_token": token})

    assert resp.status_code == 302
    enrollment = db.session.scalars(select(Enrollment)).one()
    assert (enrollment.user_id, enrollment.source) == (learner.id, "self")
    if "player.module" in app.view_functions:
        with app.test_request_context():
            expected = url_for("player.module", enrollment_id=enrollment.id, module_id=first.id)
        assert resp.location.endswith(expected)
    else:
        assert resp.location.endswith("/home")
    html = client.get("/home").get_data(as_text=True)
    assert "You are enrolled in Forklift Safety." in html
    assert "Forklift Safety" in html

    again = client.post(
        f"/enroll/courses/{course.id}", data={"csrf_token": token}, follow_redirects=True
    )
    assert "You were already enrolled in Forklift Safety." in again.get_data(as_text=True)
    assert count(Enrollment) == 1


def test_assigned_only_course_refuses_self_enrolment(client, signed_in, learner):
    course = CourseFactory(self_enroll=False, title="Restricted")
    token = signed_in(learner)
    resp = client.post(f"/enroll/courses/{course.id}", data={"csrf_token": token})
    assert resp.status_code == 302 and resp.location.endswith(f"/courses/{course.id}")
    page = client.get(f"/courses/{course.id}").get_data(as_text=True)
    assert "assigned only" in page
    assert count(Enrollment) == 0


def test_self_enrolment_needs_the_csrf_token(client, signed_in, learner):
    course = CourseFactory()
    signed_in(learner)
    assert client.post(f"/enroll/courses/{course.id}").status_code == 400
    assert count(Enrollment) == 0


def test_certification_status_is_derived_from_dates():
    now = clock.now()
    assert certification_status(None, None, now) == "active"
    assert certification_status(None, now + timedelta(days=90), now) == "active"
    assert certification_status(None, now + timedelta(days=10), now) == "expiring"
    assert certification_status(None, now - timedelta(seconds=1), now) == "expired"
    assert certification_status(now, now + timedelta(days=90), now) == "revoked"


def _course_actions(app, user, course) -> str:
    """Render the course-page fragment the way courses/detail.html includes it."""
    from flask import render_template_string
    from flask_login import login_user

    with app.test_request_context(f"/courses/{course.id}"):
        login_user(user)
        return render_template_string('{% include "enroll/_course_actions.html" %}', course=course)


def test_course_actions_fragment_offers_enrol_then_progress(app, learner):
    from tests.learning.factories import EnrollmentFactory
    from tests.people.factories import UserFactory

    course, (first, _) = course_with_modules(("text", "text"))
    html = _course_actions(app, learner, course)
    assert f'action="/enroll/courses/{course.id}"' in html and "csrf_token" in html
    assert "Assign to others" not in html

    assigned_only = CourseFactory(self_enroll=False)
    assert "assigned by your manager" in _course_actions(app, learner, assigned_only)

    EnrollmentFactory(user=learner, course=course, status="in_progress")
    html = _course_actions(app, learner, course)
    assert "Enrol</button>" not in html
    assert 'aria-valuenow="0"' in html and ">Continue</a>" in html

    trainer = UserFactory(roles=["trainer"])
    assert f'href="/enroll/courses/{course.id}/assign"' in _course_actions(app, trainer, course)
