"""Waivers: request validation, who may decide, transitions, audit, status, pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from app.audit.models import ESignature
from app.compliance import waivers as svc
from app.compliance.engine import run_requirement_engine
from app.compliance.models import Waiver
from app.compliance.statuses import Scope, statuses
from app.extensions import db
from app.platform.audit import AuditLog
from app.platform.errors import Conflict, Forbidden, Invalid
from tests.compliance.factories import RequirementFactory, WaiverFactory
from tests.conftest import csrf
from tests.helpers.api import ROLES
from tests.helpers.records import audit_rows, count, today
from tests.people.factories import JobRoleFactory, UserFactory

READERS = {"admin", "hr", "qa", "manager"}


@pytest.fixture
def hr(app):
    return UserFactory(roles=["hr"], name="Helen HR")


@pytest.fixture
def qa(app):
    return UserFactory(roles=["qa"], name="Quinn QA")


@pytest.fixture
def setting(app):
    role = JobRoleFactory()
    req = RequirementFactory(job_role=role)
    person = UserFactory(job_role_id=role.id, name="Pat Person", email="pat@example.com")
    return person, req


def _request(person, req, hr, **extra):
    data = {
        "user_id": person.id,
        "requirement_id": req.id,
        "reason": "Qualified elsewhere",
        "starts_on": today().isoformat(),
        "ends_on": (today() + timedelta(days=90)).isoformat(),
        **extra,
    }
    return svc.request_waiver(data, hr)


def _status(person, req):
    [row] = statuses(today(), Scope(user_ids=[person.id], requirement_ids=[req.id]))
    return row


# --- service -------------------------------------------------------------------------------


def test_approval_makes_the_status_waived(setting, hr, qa):
    person, req = setting
    run_requirement_engine()
    assert _status(person, req).status == "due_soon"
    waiver = _request(person, req, hr)
    assert waiver.status == "pending" and _status(person, req).status == "due_soon"

    svc.decide_waiver(waiver.id, "approve", "Certificate checked", qa, password="password")

    row = _status(person, req)
    assert (row.status, row.ok, row.waiver_id) == ("waived", True, waiver.id)
    actions = [a.action for a in audit_rows("waiver", waiver.id)]
    assert actions == ["create", "sign", "approve"]
    approve = audit_rows("waiver", waiver.id, "approve")[0]
    assert approve.before["status"] == "pending" and approve.after["status"] == "approved"
    assert approve.after["decided_by_id"] == qa.id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"user_id": 999999}, "user_id"),
        ({"user_id": "abc"}, "user_id"),
        ({"requirement_id": None}, "requirement_id"),
        ({"requirement_id": 999999}, "requirement_id"),
        ({"ends_on": ""}, "ends_on"),
        ({"starts_on": "2030-01-10", "ends_on": "2030-01-10"}, "ends_on"),
        ({"starts_on": "2030-01-01", "ends_on": "2032-06-01"}, "ends_on"),
        ({"starts_on": "2001-01-01", "ends_on": "2001-06-01"}, "ends_on"),
        ({"starts_on": "someday"}, "starts_on"),
    ],
)
def test_request_validation(setting, hr, change, field):
    person, req = setting
    with pytest.raises(Invalid) as exc:
        _request(person, req, hr, **change)
    assert field in exc.value.errors
    assert count(Waiver) == 0


def test_request_by_email_and_overlap_conflict(setting, hr):
    person, req = setting
    data = {"person": "pat@example.com", "requirement_id": str(req.id), "reason": "r"}
    waiver = svc.request_waiver({**data, "ends_on": (today() + timedelta(days=5)).isoformat()}, hr)
    assert waiver.user_id == person.id and waiver.starts_on == today()
    with pytest.raises(Conflict):
        _request(person, req, hr)


def test_only_hr_requests(setting, qa):
    person, req = setting
    with pytest.raises(Forbidden):
        _request(person, req, qa)


def test_who_may_decide(setting, hr, qa):
    person, req = setting
    waiver = _request(person, req, hr)
    with pytest.raises(Forbidden):
        svc.decide_waiver(waiver.id, "approve", "", hr, password="password")  # HR cannot approve
    qa_hr = UserFactory(roles=["qa", "hr"])
    own = _request(person, RequirementFactory(), qa_hr)
    with pytest.raises(Forbidden, match="requested"):
        svc.decide_waiver(own.id, "approve", "", qa_hr, password="password")  # own request
    mine = WaiverFactory(user=qa, requested_by_id=hr.id)
    with pytest.raises(Forbidden, match="own"):
        svc.decide_waiver(mine.id, "approve", "", qa, password="password")  # own waiver
    assert audit_rows("waiver", waiver.id, "approve") == []


def test_reject_needs_a_note_and_transitions_are_one_way(setting, hr, qa):
    person, req = setting
    waiver = _request(person, req, hr)
    with pytest.raises(Invalid) as exc:
        svc.decide_waiver(waiver.id, "reject", " ", qa, password="password")
    assert "note" in exc.value.errors
    rejected = svc.decide_waiver(waiver.id, "reject", "No evidence", qa, password="password")
    assert (rejected.status, rejected.decision_note) == ("rejected", "No evidence")
    with pytest.raises(Conflict):
        svc.decide_waiver(waiver.id, "approve", "", qa, password="password")
    with pytest.raises(Conflict):
        svc.withdraw_waiver(waiver.id, hr)
    assert _status(person, req).status != "waived"


def test_withdraw_by_requester_only(setting, hr, qa):
    person, req = setting
    waiver = _request(person, req, hr)
    with pytest.raises(Forbidden):
        svc.withdraw_waiver(waiver.id, UserFactory(roles=["hr"]))
    assert svc.withdraw_waiver(waiver.id, hr).status == "withdrawn"
    assert [a.action for a in audit_rows("waiver", waiver.id)] == ["create", "withdraw"]


def test_expired_approved_waiver_no_longer_counts(setting, hr, qa):
    person, req = setting
    WaiverFactory(
        user=person,
        requirement=req,
        status="approved",
        starts_on=today() - timedelta(days=30),
        ends_on=today() - timedelta(days=1),
    )
    assert _status(person, req).status != "waived"


def test_list_pending_first_and_managers_see_reports_only(setting, hr):
    person, req = setting
    boss = UserFactory(roles=["manager"])
    person.manager_id = boss.id
    db.session.commit()
    old = WaiverFactory(user=person, requirement=req, status="approved")
    pending = WaiverFactory(user=person, requirement=req)
    stranger = WaiverFactory()

    everyone = svc.list_waivers(svc.WaiverQuery(), hr).items
    assert everyone[0].id in (pending.id, stranger.id) and everyone[-1].id == old.id
    mine = svc.list_waivers(svc.WaiverQuery(), boss).items
    assert [w.id for w in mine] == [pending.id, old.id]
    only = svc.list_waivers(svc.WaiverQuery(status="approved"), hr).items
    assert [w.id for w in only] == [old.id]


# --- pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_pages_role_matrix(client, auth, role):
    WaiverFactory()
    auth.login(UserFactory(roles=[role]))
    index = client.get("/waivers")
    new = client.get("/waivers/new")
    assert index.status_code == (200 if role in READERS else 403)
    assert new.status_code == (200 if role in {"admin", "hr"} else 403)


def test_request_page_errors_and_success(client, auth, setting, hr):
    person, req = setting
    auth.login(hr)
    token = csrf(client, "/waivers/new")
    bad = client.post(
        "/waivers/new",
        data={"person": "nobody@example.com", "requirement_id": "", "csrf_token": token},
    )
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "No active person" in body and "Required: why this person is exempt" in body
    ok = client.post(
        "/waivers/new",
        data={
            "person": person.email,
            "requirement_id": str(req.id),
            "reason": "Equivalent training",
            "starts_on": today().isoformat(),
            "ends_on": (today() + timedelta(days=30)).isoformat(),
            "csrf_token": token,
        },
    )
    assert ok.status_code == 302
    page = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "Waiver requested for Pat Person" in page and "Withdraw request" in page


def test_qa_approves_on_the_page(client, auth, setting, hr, qa):
    person, req = setting
    waiver = _request(person, req, hr)
    auth.login(qa)
    token = csrf(client, f"/waivers/{waiver.id}")
    bad = client.post(
        f"/waivers/{waiver.id}/decide",
        data={"decision": "reject", "note": "", "csrf_token": token},
    )
    assert bad.status_code == 422 and "Required when rejecting" in bad.get_data(as_text=True)
    resp = client.post(
        f"/waivers/{waiver.id}/decide",
        data={"decision": "approve", "note": "OK", "csrf_token": token, "signature_password": "x"},
    )
    assert resp.status_code == 422 and "password is not correct" in resp.get_data(as_text=True)
    assert db.session.get(Waiver, waiver.id).status == "pending"
    resp = client.post(
        f"/waivers/{waiver.id}/decide",
        data={
            "decision": "approve",
            "note": "OK",
            "csrf_token": token,
            "signature_password": "password",
        },
    )
    assert resp.status_code == 302
    page = client.get(f"/waivers/{waiver.id}").get_data(as_text=True)
    assert "Waiver approved." in page and f"<strong>{qa.name}</strong> · Approved" in page
    assert "signature invalid" not in page
    assert _status(person, req).status == "waived"
    # A change behind the application's back shows on the signature.
    db.session.execute(
        text("UPDATE training_waivers SET ends_on = :d WHERE id = :id"),
        {"d": date(2099, 1, 1), "id": waiver.id},
    )
    db.session.commit()
    assert "signature invalid" in client.get(f"/waivers/{waiver.id}").get_data(as_text=True)


def test_hr_cannot_post_a_decision_and_requester_sees_no_form(client, auth, setting, hr):
    person, req = setting
    qa_hr = UserFactory(roles=["qa", "hr"])
    waiver = _request(person, req, qa_hr)
    auth.login(hr)
    token = csrf(client, f"/waivers/{waiver.id}")
    resp = client.post(
        f"/waivers/{waiver.id}/decide", data={"decision": "approve", "csrf_token": token}
    )
    assert resp.status_code == 403
    auth.logout()
    auth.login(qa_hr)
    page = client.get(f"/waivers/{waiver.id}").get_data(as_text=True)
    assert "another QA person must decide it" in page and 'value="approve"' not in page
    token = csrf(client, f"/waivers/{waiver.id}")
    client.post(f"/waivers/{waiver.id}/decide", data={"decision": "approve", "csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Waiver, waiver.id).status == "pending"


def test_manager_cannot_open_someone_elses_waiver(client, auth):
    waiver = WaiverFactory()
    auth.login(UserFactory(roles=["manager"]))
    assert client.get(f"/waivers/{waiver.id}").status_code == 403


def test_withdraw_on_the_page(client, auth, setting, hr):
    person, req = setting
    waiver = _request(person, req, hr)
    auth.login(hr)
    token = csrf(client, f"/waivers/{waiver.id}")
    client.post(f"/waivers/{waiver.id}/withdraw", data={"csrf_token": token})
    assert "Waiver withdrawn." in client.get(f"/waivers/{waiver.id}").get_data(as_text=True)


def test_list_query_count_does_not_grow(client, auth, hr, count_queries):
    auth.login(hr)

    def queries():
        with count_queries() as statements:
            assert client.get("/waivers").status_code == 200
        return len(statements)

    WaiverFactory(requested_by_id=hr.id)
    WaiverFactory(requested_by_id=hr.id, status="rejected", decided_by_id=hr.id)
    few = queries()
    for _ in range(6):
        WaiverFactory(requested_by_id=hr.id, status="approved", decided_by_id=hr.id)
    assert queries() == few


@pytest.mark.parametrize("who", ["requester", "waived person"])
def test_self_decision_on_the_page_is_refused_by_the_platform_rule(client, auth, setting, who):
    """Segregation of duties (issue 16): neither the requester nor the waived person decides,
    even with a valid signature; nothing is written; another QA person decides."""
    person, req = setting
    qa_hr = UserFactory(roles=["qa", "hr"], name="Quinn Both")
    if who == "requester":
        waiver, actor = _request(person, req, qa_hr), qa_hr
    else:
        waived = UserFactory(roles=["qa"])
        waiver, actor = WaiverFactory(user=waived, requested_by_id=qa_hr.id), waived
    before = (count(ESignature), count(AuditLog))
    auth.login(actor)
    token = csrf(client, f"/waivers/{waiver.id}")
    refused = client.post(
        f"/waivers/{waiver.id}/decide",
        data={"decision": "approve", "signature_password": "password", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Segregation of duties" in refused.get_data(as_text=True)
    assert (count(ESignature), count(AuditLog)) == before
    db.session.expire_all()
    assert db.session.get(Waiver, waiver.id).status == "pending"

    auth.logout()
    auth.login(UserFactory(roles=["qa"]))
    token = csrf(client, f"/waivers/{waiver.id}")
    client.post(
        f"/waivers/{waiver.id}/decide",
        data={"decision": "approve", "signature_password": "password", "csrf_token": token},
    )
    db.session.expire_all()
    assert db.session.get(Waiver, waiver.id).status == "approved"
