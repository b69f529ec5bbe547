"""Sign-in throttling that cannot be used to lock people out: growing, capped waits per
account instead of a hard lock; per-address limits that spare the people behind the same
proxy; one notice to the person and the admins per episode.

Waits run on the business clock (app.platform.clock), so these tests move it with
pinned_clock.shift instead of sleeping."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.notifications.models import Notification
from app.people import auth as svc
from app.platform.errors import RateLimited
from tests.helpers.jobs import run_queued_jobs
from tests.notifications.conftest import Inbox, free_port  # noqa: F401 (the smtp fixture's)
from tests.people.factories import UserFactory

ATTACKER = "203.0.113.66"


def _login(client, email, password, address=None):
    headers = {"X-Forwarded-For": address} if address else {}
    page = client.get("/login", headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers=headers,
    )


def _wait_for(email, ip=ATTACKER) -> int:
    """Seconds a right password from `ip` is told to wait; 0: it was let in (which ends the
    account's episode)."""
    try:
        assert svc.authenticate(email, "password", ip) is not None
    except RateLimited as exc:
        return exc.retry_after
    return 0


def _remaining(email, ip=ATTACKER) -> int:
    """Seconds a sign-in for `email` from `ip` must still wait (without trying)."""
    try:
        svc.check_throttle(svc.throttle_keys(email, ip, by_address=True))
    except RateLimited as exc:
        return exc.retry_after
    return 0


def test_by_default_the_wait_doubles_from_one_second_after_five_failures_up_to_15_minutes(app):
    waits = [svc.throttle_delay("account", n) for n in range(1, 18)]
    assert waits == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]


def test_waits_grow_from_the_fifth_failure_and_never_pass_the_cap(app, pinned_clock):
    # 60 s steps (60, 120, ... capped at 900) so a slow machine stays inside each wait.
    app.config["LOGIN_THROTTLE_FIRST_DELAY_SECONDS"] = 60
    user = UserFactory(roles=["qa"])
    for _ in range(4):
        assert svc.authenticate(user.email, "wrong", ATTACKER) is None
        assert _remaining(user.email) == 0
    assert svc.authenticate(user.email, "wrong", ATTACKER) is None  # the fifth
    waits = []
    for _ in range(6):
        wait = _wait_for(user.email)  # the right password is refused during the wait
        waits.append(wait)
        pinned_clock.shift(timedelta(seconds=wait))
        assert svc.authenticate(user.email, "wrong", ATTACKER) is None
    expected = [60, 120, 240, 480, 900, 900]
    assert all(want - 1 <= got <= want for got, want in zip(waits, expected, strict=True)), waits
    assert _remaining(user.email) >= 899  # capped however many more failures come
    pinned_clock.shift(timedelta(seconds=900))
    assert _wait_for(user.email) == 0  # a right password after the wait is let in
    assert svc.authenticate(user.email, "wrong", ATTACKER) is None  # and a new episode began
    assert _remaining(user.email) == 0


def test_five_wrong_passwords_hold_the_only_qa_approver_back_for_one_capped_wait_at_most(
    app, client, pinned_clock
):
    app.config.update(TRUSTED_PROXIES=1, LOGIN_THROTTLE_FIRST_DELAY_SECONDS=60)
    qa = UserFactory(roles=["qa"], email="the.only.approver@example.com")
    for _ in range(5):
        assert _login(client, qa.email, "wrong", ATTACKER).status_code == 401
    refused = _login(app.test_client(), qa.email, "password", "198.51.100.20")
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 0 < wait <= app.config["LOGIN_THROTTLE_MAX_DELAY_SECONDS"]
    assert f"Try again in {wait} seconds." in refused.get_data(as_text=True)
    pinned_clock.shift(timedelta(seconds=wait))
    assert _login(app.test_client(), qa.email, "password", "198.51.100.20").status_code == 302


def test_an_attacker_holding_an_account_at_the_cap_does_not_stop_its_owner_where_they_work(
    app, client, pinned_clock
):
    app.config["TRUSTED_PROXIES"] = 1
    qa = UserFactory(roles=["qa"])
    office = "198.51.100.20"
    assert _login(app.test_client(), qa.email, "password", office).status_code == 302
    for _ in range(16):  # keeps the account at its longest wait, trying as each wait ends
        pinned_clock.shift(timedelta(seconds=_remaining(qa.email)))
        assert svc.authenticate(qa.email, "wrong", ATTACKER) is None
    assert _remaining(qa.email) >= 899
    assert _remaining(qa.email, "192.0.2.50") >= 899  # from anywhere else too
    # From the address they signed in from before, the owner is judged on their own tries.
    assert _login(app.test_client(), qa.email, "password", office).status_code == 302


def test_an_address_flood_is_refused_while_others_behind_the_same_proxy_sign_in(app):
    app.config.update(
        TRUSTED_PROXIES=1, LOGIN_MAX_FAILURES_PER_ADDRESS=10, LOGIN_THROTTLE_FIRST_DELAY_SECONDS=60
    )
    colleague = UserFactory(email="colleague@example.com")
    newcomer = UserFactory(email="newcomer@example.com")
    elsewhere = UserFactory(email="elsewhere@example.com")
    # The colleague works behind the office NAT the attack later comes through.
    assert _login(app.test_client(), colleague.email, "password", ATTACKER).status_code == 302
    flood = app.test_client()
    for i in range(10):  # spraying: one wrong password each for many accounts
        assert _login(flood, f"person{i}@example.com", "Winter2026!", ATTACKER).status_code == 401
    refused = _login(flood, "person99@example.com", "Winter2026!", ATTACKER)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) in (59, 60)
    assert "Too many failed sign-in attempts" in refused.get_data(as_text=True)
    # The proxy passes on each client's own address: another client is not that address.
    assert _login(app.test_client(), elsewhere.email, "password", "203.0.113.8").status_code == 302
    # From the flooding address itself, someone who signed in from it before still can;
    # an account never used from there waits with the flood.
    assert _login(app.test_client(), colleague.email, "password", ATTACKER).status_code == 302
    assert _login(app.test_client(), newcomer.email, "password", ATTACKER).status_code == 429


def test_without_trusted_proxies_forwarded_addresses_do_not_dodge_the_address_limit(app):
    app.config.update(LOGIN_MAX_FAILURES_PER_ADDRESS=3, LOGIN_THROTTLE_FIRST_DELAY_SECONDS=60)
    client = app.test_client()
    for i in range(3):
        _login(client, f"someone{i}@example.com", "nope", f"192.0.2.{i}")
    assert _login(client, "someone9@example.com", "nope", "192.0.2.99").status_code == 429


def _notices(user_id: int) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == user_id, Notification.kind == "sign_in_throttled"
            )
        )
    )


@pytest.fixture
def smtp(app):
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_TIMEOUT=5)
    try:
        yield inbox
    finally:
        controller.stop()


def test_the_person_and_the_admins_are_told_once_per_episode(app, pinned_clock, smtp):
    person = UserFactory(name="Quinn Approver", email="quinn@example.com", roles=["qa"])
    admin = UserFactory(roles=["admin"], email="admin@example.com")
    UserFactory(roles=["admin"], active=False)  # gone: not told
    for _ in range(9):
        pinned_clock.shift(timedelta(seconds=_remaining(person.email)))
        assert svc.authenticate(person.email, "wrong", ATTACKER) is None
    run_queued_jobs(app)
    db.session.expire_all()
    [mine] = _notices(person.id)
    [theirs] = _notices(admin.id)
    assert "not locked" in mine.body and ATTACKER in mine.body
    assert "quinn@example.com" in theirs.body and theirs.url == f"/admin/users/{person.id}"
    assert sorted(m["To"] for m in smtp.messages) == [
        "Quinn Approver <quinn@example.com>",
        f"{admin.name} <admin@example.com>",
    ]

    pinned_clock.shift(timedelta(seconds=_remaining(person.email)))
    assert _wait_for(person.email) == 0  # signed in: the episode is over
    for _ in range(5):
        assert svc.authenticate(person.email, "wrong", ATTACKER) is None
    run_queued_jobs(app)
    db.session.expire_all()
    assert len(_notices(person.id)) == len(_notices(admin.id)) == 2


def test_no_notice_for_an_email_that_is_no_account(app):
    admin = UserFactory(roles=["admin"])
    for _ in range(5):
        assert svc.authenticate("nobody@example.com", "wrong", ATTACKER) is None
    assert _notices(admin.id) == []


def test_e_signature_failures_count_toward_the_account_throttle(app, pinned_clock):
    from app.audit.signatures import check_signer
    from app.platform.errors import Invalid

    app.config["LOGIN_THROTTLE_FIRST_DELAY_SECONDS"] = 60
    user = UserFactory()
    for _ in range(4):
        with pytest.raises(Invalid):
            check_signer(user, "wrong")
    assert svc.authenticate(user.email, "wrong", ATTACKER) is None  # the fifth, at sign-in
    with pytest.raises(RateLimited):
        check_signer(user, "password")  # signing waits too
    assert _remaining(user.email) > 0  # and so does signing in
    pinned_clock.shift(timedelta(seconds=60))
    check_signer(user, "password")


def test_old_episodes_are_pruned_with_the_attempts(app, pinned_clock):
    from app.people.models import LoginThrottle

    svc.authenticate("someone@example.com", "wrong", ATTACKER)
    pinned_clock.shift(timedelta(hours=app.config["LOGIN_THROTTLE_FORGET_HOURS"], seconds=1))
    svc.prune_login_attempts()
    assert db.session.scalar(select(LoginThrottle.kind).limit(1)) is None
