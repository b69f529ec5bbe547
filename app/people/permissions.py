"""The one permission table: which access roles may do what, for every view and endpoint.

Every route carries an access rule (`public`, `login`, or a permission name below); a meta-test
walks the URL map and fails on any route without one.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user

from app.people.models import ROLES
from app.platform.web.access import LOGIN, PUBLIC

ANY = frozenset(ROLES)

PERMISSIONS: dict[str, frozenset[str]] = {
    "catalog.view": ANY,
    "course.manage": frozenset({"admin", "trainer"}),
    "user.view": frozenset({"admin", "hr"}),
    "user.manage": frozenset({"admin", "hr"}),
    "org.manage": frozenset({"admin", "hr"}),
    "role.manage": frozenset({"admin"}),
    # Admins manage service accounts and their tokens, and revoke anyone's token.
    "token.manage": frozenset({"admin"}),
    # Every role may call the API (catalog.view at least), so everyone mints their own tokens.
    "token.own": ANY,
    "audit.view": frozenset({"admin", "qa"}),
    "grading.manage": frozenset({"admin", "trainer"}),
    "records.view": ANY,
    "records.write": ANY,
    "records.view_all": frozenset({"admin", "hr", "qa"}),
    "enroll.others": frozenset({"admin", "hr", "trainer"}),
    "enroll.assign": frozenset({"admin", "hr", "trainer", "manager"}),
    "certificate.view": ANY,
    "certificate.manage": frozenset({"admin", "hr", "qa", "trainer"}),
    "certificate.issue": frozenset({"admin", "hr", "trainer"}),
    "certificate.revoke": frozenset({"admin", "hr", "qa"}),
    # QA decides back-dated manual certificates; never the issuer or the recipient.
    "certificate.approve": frozenset({"qa"}),
    # Compliance: managers see their direct reports only (the services narrow the scope).
    "compliance.view": frozenset({"admin", "hr", "qa", "manager"}),
    "compliance.manage": frozenset({"admin", "hr", "qa"}),
    "program.manage": frozenset({"admin", "hr", "qa", "trainer"}),
    "waiver.request": frozenset({"admin", "hr"}),
    # QA decides waivers; nobody decides a waiver they requested.
    "waiver.approve": frozenset({"qa"}),
    # Controlled documents: QA alone classifies and approves versions (e-signed).
    "document.view": frozenset({"admin", "hr", "qa", "trainer", "manager"}),
    "document.manage": frozenset({"admin", "qa"}),
    "document.approve": frozenset({"qa"}),
    # GxP evidence for inspectors: exports of training records, the validation report.
    "inspection.export": frozenset({"admin", "qa"}),
    "validation.view": frozenset({"admin", "qa"}),
    # Instructor-led sessions: everyone sees and books themself; managers book their direct
    # reports only (app.classroom.booking narrows it).
    "session.view": ANY,
    "session.register": ANY,
    "session.manage": frozenset({"admin", "trainer", "hr"}),
    "session.register_others": frozenset({"admin", "hr", "trainer", "manager"}),
}

# Which API token scope a permission needs on top of the role check.
PERMISSION_SCOPE: dict[str, str] = {
    "catalog.view": "read",
    "course.manage": "write",
    "user.view": "read",
    "user.manage": "admin",
    "org.manage": "admin",
    "role.manage": "admin",
    "token.manage": "admin",
    "token.own": "admin",
    "audit.view": "read",
    "grading.manage": "write",
    "records.view": "read",
    "records.write": "write",
    "records.view_all": "read",
    "enroll.others": "write",
    "enroll.assign": "write",
    "certificate.view": "read",
    "certificate.manage": "read",
    "certificate.issue": "write",
    "certificate.revoke": "write",
    "certificate.approve": "write",
    "compliance.view": "read",
    "compliance.manage": "write",
    "program.manage": "write",
    "waiver.request": "write",
    "waiver.approve": "write",
    "document.view": "read",
    "document.manage": "write",
    "document.approve": "write",
    "inspection.export": "write",
    "validation.view": "read",
    "session.view": "read",
    "session.register": "write",
    "session.manage": "write",
    "session.register_others": "write",
}


def can(user, permission: str) -> bool:
    """Tell whether `user` holds a role that grants `permission`."""
    if not getattr(user, "is_authenticated", False):
        return False
    return bool(user.roles & PERMISSIONS[permission])


def access(rule: str):
    """Mark a view with its access rule and enforce it for HTML requests.

    `public` lets anyone in, `login` any signed-in user, anything else must name a permission.
    """
    if rule not in (PUBLIC, LOGIN) and rule not in PERMISSIONS:
        raise ValueError(f"unknown permission {rule!r}")

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if rule != PUBLIC:
                if not current_user.is_authenticated:
                    from app.extensions import login_manager

                    return login_manager.unauthorized()
                if rule != LOGIN and not can(current_user, rule):
                    abort(403)
            return view(*args, **kwargs)

        wrapper.access_rule = rule
        return wrapper

    return decorate


def is_state_changing() -> bool:
    return request.method not in ("GET", "HEAD", "OPTIONS")
