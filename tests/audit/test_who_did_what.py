"""Every audit row records the real actor, the means and on whose behalf (issue 16): a service
account acting for a person, a job enqueued by a person's request, a browser session, the CLI."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from app.extensions import db
from app.learning.models import Certification, Enrollment
from app.people.models import ApiToken
from app.platform.audit import AuditLog
from tests.conftest import csrf
from tests.helpers.api import bearer, make_token
from tests.helpers.jobs import run_queued_jobs
from tests.learning.factories import CourseFactory, ModuleFactory
from tests.people.factories import JobRoleFactory, ServiceAccountFactory, UserFactory


def _last(entity: str, action: str | None = None) -> AuditLog:
    q = select(AuditLog).where(AuditLog.entity == entity)
    if action:
        q = q.where(AuditLog.action == action)
    return db.session.scalars(q.order_by(AuditLog.id.desc())).first()


def _latest_token_id() -> int:
    return db.session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc()))


def test_a_service_account_acting_for_a_person_is_audited_as_itself(client, auth):
    service = ServiceAccountFactory(roles=["trainer"], name="Order system (service account)")
    plaintext = make_token(service, ("read", "write"))
    token_id = _latest_token_id()
    clerk = UserFactory(name="Carl Clerk")  # the person in the other system who triggered it
    learner = UserFactory(name="Lena Learner")
    course = CourseFactory()
    headers = {**bearer(plaintext), "On-Behalf-Of": str(clerk.id)}
    resp = client.post(
        f"/api/training/users/{learner.id}/enroll", json={"course_id": course.id}, headers=headers
    )
    assert resp.status_code == 201, resp.get_json()
    row = _last("enrollment", "create")
    assert (row.actor_id, row.means, row.on_behalf_of_id) == (
        service.id,
        f"token:{token_id}",
        clerk.id,
    )
    assert row.actor_label.startswith("Order system (service account)")
    # The audit page and its CSV say so in words.
    auth.login(UserFactory(roles=["qa"]))
    page = client.get("/audit/?entity=enrollment").get_data(as_text=True)
    assert f"via API token #{token_id}" in page and "on behalf of <strong>Carl Clerk" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/audit/export.csv").get_data(as_text=True))))
    mine = next(r for r in rows if r["entity"] == "enrollment")
    assert mine["means"] == f"API token #{token_id}"
    assert mine["on_behalf_of"] == f"Carl Clerk (user #{clerk.id})"


def test_on_behalf_of_is_refused_to_a_person_and_must_name_a_person(client):
    person = UserFactory(roles=["trainer"])
    learner, course = UserFactory(), CourseFactory()
    url = f"/api/training/users/{learner.id}/enroll"
    other = UserFactory()
    resp = client.post(
        url,
        json={"course_id": course.id},
        headers={**bearer(make_token(person, ("write",))), "On-Behalf-Of": str(other.id)},
    )
    assert resp.status_code == 403 and resp.mimetype == "application/problem+json"
    assert "Only a service account" in resp.get_json()["detail"]
    service = bearer(make_token(ServiceAccountFactory(roles=["trainer"]), ("write",)))
    another_service = ServiceAccountFactory()
    for bad in ("987654", "abc", "-1", "99999999999999999999", str(another_service.id), ""):
        resp = client.post(
            url, json={"course_id": course.id}, headers={**service, "On-Behalf-Of": bad}
        )
        assert resp.status_code == 422, (bad, resp.get_json())
        assert resp.mimetype == "application/problem+json"
    assert db.session.scalars(select(Enrollment)).all() == []


def test_a_job_enqueued_by_a_managers_request_is_the_system_on_their_behalf(app, client):
    """The manager completes their course through the API; the certificate job that follows
    (inline, or on a real worker with Redis) is audited as the system, on the manager's behalf."""
    manager = UserFactory(roles=["manager"], name="Mia Manager")
    course = CourseFactory(validity_months=12)
    module = ModuleFactory(course=course, kind="text", required=True)
    headers = bearer(make_token(manager, ("read", "write")))
    token_id = _latest_token_id()
    resp = client.post(
        f"/api/training/users/{manager.id}/enroll", json={"course_id": course.id}, headers=headers
    )
    assert resp.status_code == 201, resp.get_json()
    resp = client.put(
        f"/api/training/users/{manager.id}/progress",
        json={"module_id": module.id, "status": "completed"},
        headers=headers,
    )
    assert resp.status_code == 200, resp.get_json()
    run_queued_jobs(app)
    db.session.expire_all()
    assert db.session.scalar(select(Certification.user_id)) == manager.id
    made = _last("certification", "create")
    assert (made.actor_id, made.means, made.on_behalf_of_id) == (
        None,
        "job:certificates.issue_for_enrollment",
        manager.id,
    )
    assert made.actor_label.startswith("system")
    completed = _last("enrollment", "update")
    assert (completed.actor_id, completed.means, completed.on_behalf_of_id) == (
        manager.id,
        f"token:{token_id}",
        None,
    )


def test_a_browser_session_is_the_means_of_a_page_change(client, auth):
    me = UserFactory()
    auth.login(me)
    data = {"csrf_token": csrf(client, "/account/tokens/"), "name": "laptop", "scopes": ["read"]}
    assert client.post("/account/tokens/", data=data).status_code == 200
    row = _last("api_token", "create")
    assert (row.actor_id, row.means, row.on_behalf_of_id) == (me.id, "session", None)


def test_outside_any_request_job_or_command_the_means_is_the_system(app):
    from app.platform.audit import record_audit

    record_audit("update", "course", 1, after={"title": "x"})
    db.session.commit()
    row = _last("course")
    assert (row.actor_id, row.means, row.on_behalf_of_id) == (None, "system", None)


def test_set_based_rows_of_a_job_carry_the_means_and_the_requester(app, client):
    """HR adds a requirement through the API; the engine job's set-based enrolments (one
    INSERT ... SELECT of audit rows) are the system's, on HR's behalf."""
    hr = UserFactory(roles=["hr"])
    role = JobRoleFactory()
    person = UserFactory(job_role_id=role.id)
    course = CourseFactory()
    resp = client.post(
        "/api/v1/training/competency",
        json={"job_role_id": role.id, "course_id": course.id},
        headers=bearer(make_token(hr, ("read", "write"))),
    )
    assert resp.status_code == 201, resp.get_json()
    run_queued_jobs(app)
    db.session.expire_all()
    row = _last("enrollment", "create")
    assert row is not None and row.after["user_id"] == person.id
    assert (row.actor_id, row.means, row.on_behalf_of_id) == (
        None,
        "job:compliance.run_engine",
        hr.id,
    )
