"""The people service: create, update, roles, deactivation, the list."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.people import auth
from app.people import users as svc
from app.people.models import LoginSession, SellerProfile, User
from app.platform.audit import AuditLog
from app.platform.errors import Forbidden, Invalid
from tests.people.factories import UserFactory


def _user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def _last_audit(entity: str = "user") -> AuditLog:
    return db.session.scalar(
        select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id.desc())
    )


def test_create_user_stores_lower_case_email_and_audits_without_password(admin, org_units):
    user = svc.create_user(
        {
            "email": "  Grace.Hopper@Example.COM ",
            "name": "Grace Hopper",
            "hire_date": "2024-02-01",
            "department_id": org_units["quality"].id,
            "team_id": str(org_units["qc_lab"].id),
            "job_role_id": org_units["analyst"].id,
            "timezone": "Europe/Zurich",
            "password": "correct horse battery",
        },
        actor=admin,
    )
    assert user.email == "grace.hopper@example.com"
    assert user.password_hash.startswith("$argon2")
    assert auth.check_password(user, "correct horse battery")
    assert user.roles == {"employee"}
    row = _last_audit()
    assert row.action == "create" and row.actor_id == admin.id
    assert row.after["email"] == "grace.hopper@example.com"
    assert row.after["team_id"] == org_units["qc_lab"].id
    assert row.after["password changed"] is True
    assert "password_hash" not in row.after
    assert _last_audit("user_role").action == "grant"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Not a valid email"),
        ({"email": "ADMIN@example.com"}, "email", "already uses"),
        ({"name": ""}, "name", "Required"),
        ({"timezone": "Mars/Olympus"}, "timezone", "Not a known time zone"),
        ({"seller_tier": "diamond", "is_seller": True}, "seller_tier", "One of"),
        ({"hire_date": "01/02/2024"}, "hire_date", "YYYY-MM-DD"),
        ({"manager_email": "nobody@example.com"}, "manager_email", "No person"),
        ({"password": "short"}, "password", "Between 12"),
        ({"password": "Password1234"}, "password", "too common"),
        ({"shop_name": "Shop"}, "is_seller", "Marketplace seller"),
    ],
)
def test_create_user_rejects_bad_fields_and_writes_nothing(admin, data, field, message):
    before_users, before_audit = (
        _user_count(),
        db.session.scalar(select(func.count()).select_from(AuditLog)),
    )
    payload = {"email": "new@example.com", "name": "New Person", **data}
    with pytest.raises(Invalid) as exc:
        svc.create_user(payload, actor=admin)
    assert message in " ".join(exc.value.errors[field])
    db.session.rollback()
    assert _user_count() == before_users
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == before_audit


def test_team_must_belong_to_the_department(admin, org_units):
    with pytest.raises(Invalid) as exc:
        svc.create_user(
            {
                "email": "x@example.com",
                "name": "X",
                "department_id": org_units["ops"].id,
                "team_id": org_units["qc_lab"].id,
            },
            actor=admin,
        )
    assert "belongs to another department" in exc.value.errors["team_id"][0]


def test_update_user_audits_before_and_after(admin, org_units):
    user = UserFactory(name="Old Name")
    svc.update_user(
        user.id,
        {"email": user.email, "name": "New Name", "department_id": org_units["ops"].id},
        actor=admin,
    )
    db.session.expire_all()
    assert db.session.get(User, user.id).name == "New Name"
    row = _last_audit()
    assert row.action == "update"
    assert row.before["name"] == "Old Name" and row.after["name"] == "New Name"
    assert row.before["department_id"] is None
    assert row.after["department_id"] == org_units["ops"].id
    assert "password changed" not in row.after


def test_update_without_changes_writes_no_audit_row(admin, audit_count):
    user = UserFactory()
    count = audit_count()
    svc.update_user(user.id, {"email": user.email, "name": user.name}, actor=admin)
    assert audit_count() == count


def test_new_password_is_hashed_and_logged_as_changed_only(admin):
    user = UserFactory()
    svc.update_user(
        user.id,
        {"email": user.email, "name": user.name, "password": "a new long secret"},
        actor=admin,
    )
    db.session.expire_all()
    assert auth.check_password(db.session.get(User, user.id), "a new long secret")
    row = _last_audit()
    assert row.after["password changed"] is True
    assert "a new long secret" not in str(row.after) and "argon2" not in str(row.after)


def test_manager_cannot_be_self_or_a_loop(admin):
    boss = UserFactory()
    worker = UserFactory(manager=boss)
    with pytest.raises(Invalid) as exc:
        svc.update_user(boss.id, {"email": boss.email, "name": boss.name, "manager_id": boss.id})
    assert "own manager" in exc.value.errors["manager_id"][0]
    with pytest.raises(Invalid) as exc:
        svc.update_user(
            boss.id, {"email": boss.email, "name": boss.name, "manager_email": worker.email}
        )
    assert "loop" in exc.value.errors["manager_email"][0]


def test_set_roles_audits_grants_and_revokes(admin):
    user = UserFactory(roles=["employee"])
    svc.set_user_roles(user.id, ["trainer", "qa"], actor=admin)
    db.session.expire_all()
    assert db.session.get(User, user.id).roles == {"trainer", "qa"}
    rows = db.session.scalars(
        select(AuditLog).where(AuditLog.entity == "user_role").order_by(AuditLog.id)
    ).all()
    assert [(r.action, (r.after or r.before)["role"]) for r in rows] == [
        ("revoke", "employee"),
        ("grant", "qa"),
        ("grant", "trainer"),
    ]
    assert all(r.entity_id == str(user.id) for r in rows)


def test_roles_must_be_known_and_hr_cannot_grant(admin, hr):
    user = UserFactory()
    with pytest.raises(Invalid):
        svc.set_user_roles(user.id, ["superuser"], actor=admin)
    with pytest.raises(Forbidden):
        svc.set_user_roles(user.id, ["admin"], actor=hr)
    with pytest.raises(Forbidden):
        svc.create_user({"email": "z@example.com", "name": "Z", "roles": ["admin"]}, actor=hr)
    db.session.expire_all()
    assert db.session.get(User, user.id).roles == {"employee"}


def test_admin_cannot_drop_own_admin_role(admin):
    with pytest.raises(Forbidden):
        svc.set_user_roles(admin.id, ["employee"], actor=admin)


def test_hr_cannot_take_over_an_admin_account(admin, hr):
    with pytest.raises(Forbidden):
        svc.update_user(
            admin.id,
            {"email": admin.email, "name": admin.name, "password": "hijacked-account!!"},
            hr,
        )
    with pytest.raises(Forbidden):
        svc.deactivate_user(admin.id, hr, "bye")


def test_deactivate_ends_sessions_and_keeps_the_row(admin):
    user = UserFactory()
    auth.start_login_session(user, "127.0.0.1", "test")
    auth.start_login_session(user, "127.0.0.2", "test")
    svc.deactivate_user(user.id, admin, "Left the company")
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored is not None and stored.active is False and stored.deactivated_at is not None
    live = db.session.scalar(
        select(func.count())
        .select_from(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
    )
    assert live == 0
    row = _last_audit()
    assert row.action == "deactivate" and row.reason == "Left the company"
    assert row.before["active"] is True and row.after["active"] is False


def test_deactivate_needs_a_reason_and_not_oneself(admin):
    user = UserFactory()
    with pytest.raises(Invalid):
        svc.deactivate_user(user.id, admin, "   ")
    with pytest.raises(Forbidden):
        svc.deactivate_user(admin.id, admin, "oops")
    db.session.expire_all()
    assert db.session.get(User, admin.id).active is True


def test_reactivate(admin):
    user = UserFactory(active=False)
    svc.reactivate_user(user.id, admin, "Came back")
    db.session.expire_all()
    assert db.session.get(User, user.id).active is True
    assert _last_audit().action == "reactivate"


def test_people_are_never_hard_deleted(admin):
    user = UserFactory()
    with pytest.raises(Forbidden):
        svc.delete_user(user.id, admin)
    assert db.session.get(User, user.id) is not None


def test_list_users_searches_and_filters(org_units):
    UserFactory(name="Alice Quality", department=org_units["quality"], roles=["qa"])
    UserFactory(name="Bob Ops", email="bob@ops.example.com", department=org_units["ops"])
    UserFactory(name="Carol Gone", active=False)

    def names(**kw):
        page = svc.list_users(svc.UserQuery(**kw))
        return [u.name for u in page.items]

    assert names(q="alice") == ["Alice Quality"]
    assert names(q="ops.example") == ["Bob Ops"]
    assert names(department_id=org_units["ops"].id) == ["Bob Ops"]
    assert names(role="qa") == ["Alice Quality"]
    assert names(active=False) == ["Carol Gone"]
    assert names(active=None) == ["Alice Quality", "Bob Ops", "Carol Gone"]
    assert names(q="100%_") == []


def test_user_query_from_args_ignores_junk():
    query = svc.UserQuery.from_args(
        {"page": "x", "department": "abc", "role": "root", "status": "all"}
    )
    assert query.page == 1 and query.department_id is None and query.role == ""
    assert query.active is None


def test_a_seller_keeps_shop_and_tier_on_a_profile_audited_like_any_fact(admin):
    user = svc.create_user(
        {
            "email": "shop@example.com",
            "name": "Sam Seller",
            "is_seller": True,
            "shop_name": "Sam's Goods",
            "seller_tier": "gold",
        },
        actor=admin,
    )
    profile = db.session.get(SellerProfile, user.id)
    assert (profile.shop_name, profile.tier) == ("Sam's Goods", "gold")
    assert _last_audit("user").after["seller_tier"] == "gold"

    who = {"email": "shop@example.com", "name": "Sam Seller"}
    shop = {**who, "is_seller": True, "shop_name": "Sam's Goods"}
    svc.update_user(user.id, {**shop, "seller_tier": "platinum"}, actor=admin)
    row = _last_audit("user")
    assert (row.before["seller_tier"], row.after["seller_tier"]) == ("gold", "platinum")
    assert db.session.get(SellerProfile, user.id).tier == "platinum"

    gone = {**who, "is_seller": False, "shop_name": "", "seller_tier": ""}
    svc.update_user(user.id, gone, actor=admin)
    db.session.expire_all()
    assert db.session.get(SellerProfile, user.id) is None
    assert _last_audit("user").after["is_seller"] is False
    assert svc.seller_facts(db.session.get(User, user.id)) == {
        "is_seller": False,
        "shop_name": None,
        "seller_tier": None,
    }
