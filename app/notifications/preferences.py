"""Notification preferences: which kinds a person gets emailed and whether as one daily digest,
and the one-click unsubscribe link of the digest."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.notifications.models import NotificationPreference
from app.platform.errors import Invalid, NotFound

# Kinds a person can switch email off for, with the label the preferences page shows. Other
# kinds (passed to notify() by other areas) are emailed unless the person chose the digest.
KINDS: dict[str, str] = {
    "due_reminder": "Training coming due (30, 7 and 1 days before)",
    "overdue": "My training is overdue",
    "escalation": "Training of people who report to me is 7 days overdue",
    "session_reminder": "Sessions I am booked on (24 hours before)",
    # Sent by the classroom domain as bookings change.
    "session_registered": "My session bookings are confirmed (mine or someone else's for me)",
    "session_booking_cancelled": "My booking on a session was cancelled",
    "session_promoted": "A seat became free for me on a waitlist",
    "session_changed": "A session I am booked on moved or changed",
    "session_cancelled": "A session I am booked on was cancelled",
}

P = NotificationPreference


@dataclass(frozen=True)
class Preferences:
    email_on: dict[str, bool]
    daily_digest: bool


def get_preferences(user_id: int) -> Preferences:
    """The person's email choices (defaults when they never chose: every kind, no digest)."""
    pref = db.session.get(P, user_id)
    off = set(pref.email_off or []) if pref else set()
    return Preferences(
        email_on={kind: kind not in off for kind in KINDS},
        daily_digest=bool(pref and pref.daily_digest),
    )


def update_preferences(user_id: int, email_off: Iterable[str], daily_digest: bool) -> Preferences:
    """Store which kinds are not emailed and whether email comes as one daily digest.

    Raises Invalid for an unknown kind.
    """
    off = sorted(set(email_off))
    unknown = [k for k in off if k not in KINDS]
    if unknown:
        raise Invalid("Unknown notification kind.", {"email_off": [f"Unknown: {unknown[0]}"]})
    pref = preference_row(user_id)
    pref.email_off = off
    pref.daily_digest = bool(daily_digest)
    db.session.commit()
    return get_preferences(user_id)


def preference_row(user_id: int) -> NotificationPreference:
    pref = db.session.get(P, user_id)
    if pref is None:
        pref = NotificationPreference(user_id=user_id, email_off=[], daily_digest=False)
        db.session.add(pref)
    if not pref.unsubscribe_token:
        pref.unsubscribe_token = secrets.token_urlsafe(32)
    return pref


def preference_for_token(token: str) -> NotificationPreference:
    """The preferences an unsubscribe link belongs to; raises NotFound for an unknown token."""
    pref = None
    if token and len(token) <= 64:
        pref = db.session.scalar(select(P).where(P.unsubscribe_token == token))
    if pref is None:
        raise NotFound("This unsubscribe link is not valid.")
    return pref


def unsubscribe(token: str) -> NotificationPreference:
    """One-click unsubscribe (RFC 8058) from a digest: no more digest and no more email.

    Turning only the digest off would switch the person to one email per notification, the
    opposite of what "unsubscribe" asks for; the notification centre keeps working and the
    preferences page turns email back on. Raises NotFound for an unknown token.
    """
    pref = preference_for_token(token)
    pref.daily_digest = False
    pref.email_off = sorted(KINDS)
    db.session.commit()
    return pref
