"""The requirement engine's runs over many people: in chunks, with progress an admin can watch on
the requirements page, the same outcome as one pass, and the nightly run recorded too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.compliance import requirements as svc
from app.compliance.engine import ENGINE_RUN_KIND, recent_engine_runs, run_requirement_engine
from app.compliance.jobs import nightly
from app.compliance.models import TrainingAssignment
from app.extensions import db
from app.learning.models import Enrollment
from app.platform.job_runs import JobRun, open_run
from tests.compliance.factories import RequirementFactory
from tests.conftest import csrf
from tests.helpers.api import ROLES
from tests.helpers.jobs import run_queued_jobs
from tests.helpers.records import count
from tests.learning.factories import CourseFactory
from tests.people.factories import JobRoleFactory, UserFactory

HX = {"HX-Request": "true"}


@pytest.fixture
def role(app):
    return JobRoleFactory(name="Operator")


@pytest.fixture
def operators(app, role):
    return [UserFactory(job_role_id=role.id) for _ in range(5)]


def _runs() -> list[JobRun]:
    return list(db.session.scalars(select(JobRun).order_by(JobRun.id)))


def test_a_new_requirement_runs_in_chunks_and_reports_what_it_made(app, role, operators):
    app.config["ENGINE_CHUNK_PEOPLE"] = 2
    UserFactory()  # not an operator: counted as a person looked at, given nothing
    admin = UserFactory(roles=["admin"], name="Ada Admin")
    course = CourseFactory(title="GMP Basics")

    req = svc.create_requirement({"job_role_id": role.id, "course_id": course.id}, actor=admin)
    run_queued_jobs(app)

    db.session.expire_all()
    [run] = _runs()
    people = 5 + 2  # the operators, the other person and the admin
    assert (run.kind, run.status, run.cause) == (ENGINE_RUN_KIND, "done", "new requirement")
    assert (run.done, run.total, run.percent) == (people, people, 100)
    assert run.requested_by_id == admin.id
    assert (
        run.result["assignments"]
        == 5
        == count(TrainingAssignment, TrainingAssignment.requirement_id == req.id)
    )
    assert run.result["enrollments"] == 5 == count(Enrollment, Enrollment.course_id == course.id)
    assert run.started_at is not None and run.finished_at is not None
    # The chunks made everything one pass over everyone would: a second pass makes nothing.
    again = run_requirement_engine()
    assert (again.assignments, again.renewals, again.enrollments) == (0, 0, 0)


def test_a_change_for_one_person_is_not_a_tracked_run(app, role, operators):
    RequirementFactory(job_role=role)
    from app.compliance.engine import request_engine_run

    assert request_engine_run("hired", user_ids=[operators[0].id]) is None
    run_queued_jobs(app)
    assert _runs() == []


def test_the_nightly_run_is_recorded(app, role, operators):
    RequirementFactory(job_role=role)
    out = nightly()
    [run] = _runs()
    assert (run.cause, run.status) == ("nightly run", "done")
    assert run.total == 5 and run.result["assignments"] == out["assignments"] == 5


@pytest.mark.parametrize("role_name", ROLES)
def test_only_editors_see_and_start_runs(app, client, auth, role_name):
    auth.login(UserFactory(roles=[role_name]))
    page = client.get("/requirements")
    partial = client.get("/requirements/engine-runs", headers=HX)
    editors = role_name in {"admin", "hr", "qa"}
    if page.status_code == 200:
        assert ("Requirement engine" in page.get_data(as_text=True)) == editors
    assert partial.status_code == (200 if editors else 403)
    start = client.post("/requirements/engine-runs", data={"csrf_token": csrf(client, "/home")})
    run_queued_jobs(app)  # with Redis: leave no queued run for the next test
    assert start.status_code == (303 if editors else 403)
    assert len(_runs()) == (1 if editors else 0)


def test_run_now_shows_the_run_and_refuses_a_second_while_one_runs(app, client, auth, role):
    RequirementFactory(job_role=role, course=CourseFactory(title="GMP Basics"))
    UserFactory(job_role_id=role.id)
    admin = UserFactory(roles=["admin"], name="Ada Admin")
    auth.login(admin)

    done = client.post(
        "/requirements/engine-runs", data={"csrf_token": csrf(client, "/home")}, headers=HX
    ).get_data(as_text=True)
    run_queued_jobs(app)
    body = client.get("/requirements/engine-runs", headers=HX).get_data(as_text=True)
    assert "The requirement engine is running for everyone." in done
    assert "Run by Ada Admin" in body and "1 assignment ·" in body and "100%" in body
    assert 'hx-trigger="every 2s"' not in body  # nothing left to poll for

    open_run(ENGINE_RUN_KIND, "new requirement")  # one waiting for a worker
    busy = client.post(
        "/requirements/engine-runs", data={"csrf_token": csrf(client, "/home")}, headers=HX
    ).get_data(as_text=True)
    assert "already running" in busy
    assert 'hx-trigger="every 2s"' in busy and "Refresh" in busy
    assert [v.status for v in recent_engine_runs()] == ["queued", "done"]


def test_run_now_without_javascript_redirects_with_a_message(client, auth):
    auth.login(UserFactory(roles=["hr"]))
    response = client.post(
        "/requirements/engine-runs",
        data={"csrf_token": csrf(client, "/home")},
        follow_redirects=True,
    )
    body = response.get_data(as_text=True)
    assert "The requirement engine is running for everyone." in body
    assert 'id="engine-runs"' in body and "Run by" in body


def test_a_stale_run_no_longer_blocks(app, pinned_clock):
    run = open_run(ENGINE_RUN_KIND, "new requirement")
    assert run.active
    pinned_clock.shift(timedelta(hours=3))
    assert not run.active
