"""Electronic signatures: re-authentication, lockout, manifestation, validity, append-only."""

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.audit.models import ESignature
from app.audit.signatures import content_hash, manifestations_for, sign, signed_content
from app.extensions import db
from app.people.models import LoginAttempt
from app.platform.errors import Invalid, RateLimited
from tests.conftest import BACKEND, as_owner
from tests.people.factories import UserFactory

_STORE: dict[str, dict] = {}


@signed_content("test_record")
def _content(entity_id: str):
    return _STORE.get(entity_id)


def _sign(user, password="password", entity_id="1", **kw):
    sig = sign(
        signer=user,
        password=password,
        meaning=kw.pop("meaning", "approved"),
        entity="test_record",
        entity_id=entity_id,
        statement="I approve test record 1.",
        **kw,
    )
    db.session.commit()
    return sig


def test_a_signature_records_name_times_meaning_and_content_hash(app):
    _STORE["1"] = {"title": "SOP", "version": 2}
    user = UserFactory(name="Quinn QA", timezone="Europe/Zurich")
    sig = _sign(user)
    assert sig.printed_name == "Quinn QA" and sig.meaning_label == "Approved"
    assert sig.content_hash == content_hash({"version": 2, "title": "SOP"})  # key order free
    assert sig.timezone == "Europe/Zurich" and sig.local_time.endswith(("CET", "CEST"))
    (shown,) = manifestations_for("test_record", 1)
    assert shown.valid is True and shown.printed_name == "Quinn QA"


def test_changing_the_signed_record_invalidates_the_signature(app):
    _STORE["1"] = {"title": "SOP", "version": 2}
    _sign(UserFactory())
    _STORE["1"] = {"title": "SOP", "version": 3}
    assert manifestations_for("test_record", 1)[0].valid is False
    _STORE.pop("1")
    assert manifestations_for("test_record", 1)[0].valid is None


@pytest.mark.parametrize("password", ["", None, "wrong"])
def test_no_signature_without_the_right_password(app, password):
    _STORE["1"] = {"x": 1}
    user = UserFactory()
    with pytest.raises(Invalid) as exc:
        _sign(user, password)
    assert "password" in exc.value.errors
    assert db.session.scalar(select(func.count()).select_from(ESignature)) == 0


def test_failed_signatures_count_toward_the_login_lockout(app, client):
    app.config["LOGIN_THROTTLE_FIRST_DELAY_SECONDS"] = 60  # a slow machine stays inside the wait
    _STORE["1"] = {"x": 1}
    user = UserFactory()
    for _ in range(app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]):
        with pytest.raises(Invalid):
            _sign(user, "wrong")
    failures = select(func.count()).where(LoginAttempt.email == user.email)
    assert db.session.scalar(failures) == app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    with pytest.raises(RateLimited):
        _sign(user, "password")  # even the right password, during the wait
    from tests.conftest import csrf

    resp = client.post(
        "/login", data={"email": user.email, "password": "password", "csrf_token": csrf(client)}
    )
    assert resp.status_code == 429


def test_an_inactive_account_cannot_sign(app):
    _STORE["1"] = {"x": 1}
    user = UserFactory(active=False)
    with pytest.raises(Invalid):
        _sign(user)


def test_signing_is_audited_on_the_signed_record(app):
    from app.platform.audit import AuditLog

    _STORE["7"] = {"x": 1}
    sig = _sign(UserFactory(), entity_id="7", reason="release")
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "sign"))
    assert (row.entity, row.entity_id, row.reason) == ("test_record", "7", "release")
    assert row.after["signature_id"] == sig.id and row.after["content_hash"] == sig.content_hash


@pytest.mark.skipif(BACKEND != "postgresql", reason="the guard trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "statement", ["UPDATE e_signatures SET printed_name = 'x'", "DELETE FROM e_signatures"]
)
def test_postgresql_refuses_to_change_signatures(app, statement):
    _STORE["1"] = {"x": 1}
    _sign(UserFactory())
    # As the owner: the app's role may not even try (tests/audit/test_app_role.py).
    with pytest.raises(DBAPIError, match="append-only"), as_owner() as owner:
        owner.execute(text(statement))
    db.session.rollback()


def test_employee_record_lists_signatures_with_their_status(client, auth):
    """A waiver signed by QA shows on the person's record; tampering shows there too."""
    from app.compliance import waivers
    from tests.compliance.factories import WaiverFactory

    qa = UserFactory(roles=["qa"], name="Quentin QA")
    waiver = WaiverFactory(status="pending")
    waivers.decide_waiver(waiver.id, "approve", "ok", qa, password="password")
    auth.login(UserFactory(roles=["hr"]))
    page = client.get(f"/people/{waiver.user_id}/record").get_data(as_text=True)
    assert "Quentin QA" in page and "I approve the waiver" in page and ">valid<" in page
    db.session.execute(
        text("UPDATE training_waivers SET reason = 'edited' WHERE id = :id"), {"id": waiver.id}
    )
    db.session.commit()
    page = client.get(f"/people/{waiver.user_id}/record").get_data(as_text=True)
    assert "signature invalid" in page
