"""The SOP panel of the CoursePlayer: what changed first, the document, and completion only
with the learner's "read and understood" e-signature."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.gxp import documents as svc
from app.learning.enrollments import record_progress
from app.learning.models import Enrollment
from app.people.models import LoginAttempt
from app.platform.errors import Invalid
from tests.conftest import csrf
from tests.gxp.documents.conftest import (
    PASSWORD,
    V1_TEXT,
    V2_TEXT,
    classify,
    effective,
    enrollments_for,
    new_document,
    signatures,
    upload,
)
from tests.helpers.jobs import run_queued_jobs


def _failures(email: str) -> int:
    return db.session.scalar(
        select(func.count()).where(LoginAttempt.email == email, LoginAttempt.success.is_(False))
    )


def test_sop_completes_only_with_the_right_password_and_shows_the_signature(app, client, auth, org):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 2
    doc = new_document(org)
    effective(org, upload(org, doc, "1", V1_TEXT))
    v2 = upload(org, doc, "2", V2_TEXT)
    classify(org, v2, "significant", note="Use detergent B from now on.")
    effective(org, v2)
    run_queued_jobs(app)
    person = org.in_dept
    [enrollment] = [e for e in enrollments_for(v2) if e.user_id == person.id]
    module_id = doc.course.modules[0].id
    url = f"/learn/{enrollment.id}/{module_id}"

    auth.login(person)
    page = client.get(url).get_data(as_text=True)
    assert page.index("Use detergent B from now on.") < page.index("Sign the log.")
    assert "I have read and understood SOP-QA-001 version 2" in page
    token = csrf(client, url)

    wrong = client.post(f"{url}/sop", data={"signature_password": "wrong", "csrf_token": token})
    assert wrong.status_code == 422
    assert "The password is not correct" in wrong.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).status == "assigned"
    assert _failures(person.email) == 1
    assert signatures(svc.READ_ENTITY, enrollment.id) == []
    # The API's progress route cannot complete an SOP without the signature either.
    try:
        record_progress(enrollment.id, module_id, status="completed", actor=person)
    except Invalid as exc:
        assert "status" in exc.errors
    else:
        raise AssertionError("an SOP completed without a signature")

    ok = client.post(f"{url}/sop", data={"signature_password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 303  # back to the page, which shows the signature
    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).status == "completed"
    [sig] = signatures(svc.READ_ENTITY, enrollment.id)
    assert (sig.printed_name, sig.meaning, sig.valid) == ("Ben Dept", "Read and understood", True)
    done = client.get(url).get_data(as_text=True)
    assert "Ben Dept" in done and "Read and understood" in done and "signature_password" not in done
    assert svc.training_counts([doc.id]) == {doc.id: (1, 3)}


def test_wrong_signatures_count_toward_the_lockout(app, client, auth, org):
    app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"] = 2
    app.config["LOGIN_THROTTLE_FIRST_DELAY_SECONDS"] = 60  # a slow machine stays in the wait
    doc = new_document(org)
    v1 = upload(org, doc, "1", V1_TEXT)
    effective(org, v1)
    run_queued_jobs(app)
    person = org.in_role
    [enrollment] = [e for e in enrollments_for(v1) if e.user_id == person.id]
    url = f"/learn/{enrollment.id}/{doc.course.modules[0].id}"
    auth.login(person)
    token = csrf(client, url)
    for _ in range(2):
        client.post(f"{url}/sop", data={"signature_password": "wrong", "csrf_token": token})
    locked = client.post(f"{url}/sop", data={"signature_password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Enrollment, enrollment.id).status == "assigned"


def test_signing_over_htmx_swaps_the_panel_and_the_player_status(app, client, auth, org):
    doc = new_document(org)
    v1 = upload(org, doc, "1", V1_TEXT)
    effective(org, v1)
    run_queued_jobs(app)
    person = org.in_role
    [enrollment] = [e for e in enrollments_for(v1) if e.user_id == person.id]
    url = f"/learn/{enrollment.id}/{doc.course.modules[0].id}"
    auth.login(person)
    token = csrf(client, url)
    htmx = {"HX-Request": "true"}

    wrong = client.post(
        f"{url}/sop", data={"signature_password": "wrong", "csrf_token": token}, headers=htmx
    )
    signed = client.post(
        f"{url}/sop", data={"signature_password": PASSWORD, "csrf_token": token}, headers=htmx
    )

    # htmx swaps only 2xx answers: the refusal comes back as the panel with its error.
    assert wrong.status_code == 200 and "The password is not correct" in wrong.get_data(
        as_text=True
    )
    body = signed.get_data(as_text=True)
    assert signed.status_code == 200 and "<html" not in body
    assert "You signed that you have read and understood this version" in body
    head = body.split('<div id="module-head" class="page-head" hx-swap-oob="true">')[1]
    assert ">completed</span>" in head.split("</h1>")[1]
    assert 'hx-swap-oob="true"' in body.split('id="course-progress"')[1][:50]
    assert 'value="100"' in body and "Course completed" in body
