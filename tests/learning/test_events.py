"""Learning announces completions and certificates after commit, so upper domains (gates,
points, webhooks) can follow them; its own handler issues the certificate."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.learning import enrollments
from app.learning.certificates import revoke_certificate
from app.learning.events import certificate_issued, certificate_revoked, enrollment_completed
from app.learning.models import Certification
from tests.helpers.jobs import run_queued_jobs
from tests.learning.enrollments.conftest import course_with_modules
from tests.learning.factories import EnrollmentFactory
from tests.people.factories import UserFactory


@pytest.fixture
def heard():
    """Every learning event delivered during the test, in order."""
    seen: list[tuple] = []
    handlers = {}
    for event in (enrollment_completed, certificate_issued, certificate_revoked):

        def handler(event=event, **payload):
            seen.append((event.name, payload))

        handlers[event] = handler
        event.connect(handler)
    yield seen
    for event, handler in handlers.items():
        event.disconnect(handler)


def test_a_completion_is_announced_and_its_certificate_follows(app, heard):
    course, (first, second) = course_with_modules(kinds=("text", "text"))
    learner = UserFactory()
    enrollment = EnrollmentFactory(user=learner, course=course, status="in_progress")
    enrollments.complete_module(enrollment.id, first.id, actor=learner)
    assert heard == []  # one of two required modules: not complete
    enrollments.complete_module(enrollment.id, second.id, actor=learner)
    enrollments.evaluate_completion(enrollment.id, actor=learner)
    run_queued_jobs(app)

    ids = {"user_id": learner.id, "course_id": course.id}
    cert = db.session.query(Certification).filter_by(enrollment_id=enrollment.id).one()
    # Inline (no Redis) the certificate is issued while the completion is being delivered, so
    # the two may arrive in either order; each arrives once.
    assert sorted(heard) == [
        ("learning.certificate_issued", {"certificate_id": cert.id, **ids}),
        ("learning.enrollment_completed", {"enrollment_id": enrollment.id, **ids}),
    ]
    enrollments.evaluate_completion(enrollment.id, actor=learner)  # already complete
    assert len(heard) == 2

    revoke_certificate(cert.id, UserFactory(roles=["qa"]), "Issued in error")
    assert heard[2] == ("learning.certificate_revoked", {"certificate_id": cert.id, **ids})
