"""Tell a person and the admins when the person's account reaches its failed-password
threshold (people.sign_in_throttled): once per episode, in-app and by email as usual."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.notifications.notify import notify
from app.people.events import sign_in_throttled
from app.people.models import User, UserRole
from app.platform.web.urls import path_for

log = logging.getLogger("cadre.notifications")

KIND = "sign_in_throttled"


@sign_in_throttled.connect
def tell_of_throttled_sign_in(
    user_id: int, failures: int, address: str | None, episode: datetime
) -> None:
    """people.sign_in_throttled: notify the person and every active admin (the dedupe key
    names the episode, so a repeat delivery adds nothing). Never fails the sign-in."""
    try:
        _notify_all(user_id, failures, address, episode)
    except Exception:
        db.session.rollback()
        log.exception("could not send the sign-in throttle notices for user %s", user_id)


def _notify_all(user_id: int, failures: int, address: str | None, episode: datetime) -> None:
    person = db.session.get(User, user_id)
    if person is None:
        return
    where = f" (latest from {address})" if address else ""
    episode_key = f"{KIND}:{user_id}:{episode.isoformat()}"
    notify(
        person.id,
        KIND,
        "Several wrong passwords were entered for your account",
        f"{failures} sign-in or signature attempts with a wrong password{where}. Each further"
        " try now waits a little longer; your account is not locked. If this was not you, tell"
        " your administrator and change your password.",
        url=path_for("auth.change_password"),
        dedupe_key=f"{episode_key}:{person.id}",
    )
    admins = db.session.scalars(
        select(User.id)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "admin", User.active.is_(True), User.id != person.id)
    ).all()
    for admin_id in admins:
        notify(
            admin_id,
            KIND,
            f"Several wrong passwords were entered for {person.name}",
            f"{failures} attempts with a wrong password for {person.email}{where}. Further"
            " tries are slowed down (the account is not locked); the person has been told.",
            url=path_for("admin.user_detail", user_id=person.id),
            dedupe_key=f"{episode_key}:{admin_id}",
        )
    db.session.commit()
