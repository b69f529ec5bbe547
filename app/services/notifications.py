"""Notifications: one entry point, notify(), for every message Cadre sends a person.

The row is the in-app notification; email (immediate or in the daily digest) follows from the
person's preferences after the caller commits.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Notification


def notify(
    user_id: int,
    kind: str,
    title: str,
    body: str = "",
    url: str | None = None,
    dedupe_key: str | None = None,
) -> Notification | None:
    """Add a notification to the session (the caller commits); None if `dedupe_key` exists.

    `dedupe_key` names the item and threshold (e.g. "due:assignment:42:7d") so a reminder is
    created once however often the sweep that creates it runs.
    """
    if dedupe_key is not None:
        exists = db.session.scalar(
            select(Notification.id).where(Notification.dedupe_key == dedupe_key)
        )
        if exists:
            return None
    row = Notification(
        user_id=user_id, kind=kind, title=title[:300], body=body, url=url, dedupe_key=dedupe_key
    )
    db.session.add(row)
    return row
