"""No overbooking: 50 people booking the last seat at once get 1 seat and 49 waitlist places.

On PostgreSQL each booking runs in its own thread, app context and database session, all
released together; the session row lock serialises the seat count. SQLite has no concurrent
writers, so there the same bookings run one after another (the counting rule still holds).
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from app.classroom.booking import register
from app.classroom.models import SessionRegistration
from app.extensions import db
from app.people.models import User
from tests.classroom.sessions.conftest import schedule
from tests.conftest import BACKEND
from tests.helpers.factories import password_hash
from tests.people.factories import UserFactory

PEOPLE = 50 if BACKEND == "postgresql" else 8


def _people(n: int) -> list[int]:
    digest = password_hash()
    users = [
        User(email=f"rush{i}@example.com", name=f"Rush {i}", password_hash=digest) for i in range(n)
    ]
    db.session.add_all(users)
    db.session.commit()
    return [u.id for u in users]


def test_parallel_bookings_for_the_last_seat(app, trainer, course):
    s = schedule(trainer, course, capacity=2)
    register(s.id, UserFactory())  # one seat left
    ids = _people(PEOPLE)
    session_id = s.id  # plain values only cross into the threads
    errors: list[BaseException] = []

    def book(user_id: int, gate: threading.Barrier | None) -> None:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                db.session.commit()  # hand the connection back while waiting at the gate
                if gate is not None:
                    gate.wait(timeout=30)
                register(session_id, user)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

    if BACKEND == "postgresql":
        gate = threading.Barrier(len(ids))
        threads = [threading.Thread(target=book, args=(i, gate)) for i in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    else:
        for i in ids:
            book(i, None)

    assert errors == []
    db.session.expire_all()
    rows = db.session.execute(
        select(SessionRegistration.status, SessionRegistration.waitlist_position).where(
            SessionRegistration.session_id == session_id,
            SessionRegistration.user_id.in_(ids),
        )
    ).all()
    seats = [r for r in rows if r.status == "registered"]
    waiting = sorted(r.waitlist_position for r in rows if r.status == "waitlisted")
    assert len(rows) == PEOPLE and len(seats) == 1
    assert waiting == list(range(1, PEOPLE))
