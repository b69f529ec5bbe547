"""The audit-completeness guard itself: it catches an unaudited change and an unexercised route.

The guard (tests/audit_guard.py) watches every request and job of the whole suite; these tests
prove it would fail a new route that forgets its audit row.
"""

from app.extensions import csrf, db
from app.learning.models import Enrollment
from app.platform.audit import record_audit
from tests.helpers import audit_guard
from tests.learning.factories import EnrollmentFactory


def _add_route(app, name, audited: bool):
    def view(enrollment_id):
        enrollment = db.session.get(Enrollment, enrollment_id)
        enrollment.status = "completed"
        if audited:  # ...but with nothing about the status it changed
            record_audit("update", "enrollment", enrollment_id, after={"note": "looked at it"})
        db.session.commit()
        return "ok"

    view.__name__ = name
    csrf.exempt(view)
    app.add_url_rule(f"/_test/{name}/<int:enrollment_id>", name, view, methods=["POST"])


def test_an_unaudited_change_to_a_training_record_is_caught(app, client):
    _add_route(app, "sneaky", audited=False)
    enrollment = EnrollmentFactory()
    client.post(f"/_test/sneaky/{enrollment.id}")
    found = [str(v) for v in audit_guard.violations]
    audit_guard.violations.clear()  # this test's own violation is the point of it
    path = f"POST /_test/sneaky/{enrollment.id}"
    assert found == [f"{path}: update Enrollment fields ['status'] without an audit row"]


def test_an_audit_row_that_omits_the_changed_field_is_caught(app, client):
    _add_route(app, "half", audited=True)
    enrollment = EnrollmentFactory()
    client.post(f"/_test/half/{enrollment.id}")
    found = [str(v) for v in audit_guard.violations]
    audit_guard.violations.clear()
    path = f"POST /_test/half/{enrollment.id}"
    assert found == [f"{path}: update Enrollment fields ['status'] without an audit row"]


def test_a_new_mutating_route_counts_as_unexercised_until_a_test_calls_it(app):
    _add_route(app, "never_called", audited=True)
    missing = {endpoint for endpoint, _, _ in audit_guard.unexercised_routes(app)}
    assert "never_called" in missing
