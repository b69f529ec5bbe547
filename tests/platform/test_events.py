"""Domain events: after-commit delivery, nothing on rollback, in-transaction delivery."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.people.models import Department
from app.platform import events

department_named = events.event(
    "test.department_named", "A test event after a department is named.", ("department_id",)
)
checked_now = events.event(
    "test.checked_now", "A test event inside the transaction.", ("value",), in_transaction=True
)


@pytest.fixture
def received():
    seen: list = []

    def handler(department_id):
        # After the commit: a fresh transaction sees the committed row.
        seen.append(
            db.session.scalar(select(Department.name).where(Department.id == department_id))
        )

    department_named.connect(handler)
    yield seen
    department_named.disconnect(handler)


def test_an_event_arrives_only_once_its_transaction_commits(app, received):
    dept = Department(name="Packaging")
    db.session.add(dept)
    db.session.flush()
    department_named.publish(department_id=dept.id)
    assert received == []
    db.session.commit()
    assert received == ["Packaging"]
    db.session.commit()  # delivered once
    assert received == ["Packaging"]


def test_a_rolled_back_transaction_sends_nothing(app, received):
    dept = Department(name="Gone")
    db.session.add(dept)
    db.session.flush()
    department_named.publish(department_id=dept.id)
    db.session.rollback()
    db.session.commit()
    assert received == []


def test_a_handler_may_commit_and_publish_in_turn(app, received):
    chained: list[int] = []

    def rename(department_id):
        if chained:
            return  # its own event: renamed already
        db.session.get(Department, department_id).name = "Renamed"
        department_named.publish(department_id=department_id)
        chained.append(department_id)
        db.session.commit()

    dept = Department(name="First")
    db.session.add(dept)
    db.session.commit()
    try:
        department_named.connect(rename)
        department_named.publish(department_id=dept.id)
        db.session.commit()
    finally:
        department_named.disconnect(rename)
    # The first delivery reached both handlers (the recorder saw the old name); the second,
    # published by `rename`, came after rename's own commit.
    assert received == ["First", "Renamed"] and chained == [dept.id]


def test_an_in_transaction_event_is_answered_at_once(app):
    def double(value):
        return value * 2

    checked_now.connect(double)
    try:
        assert checked_now.publish(value=21) == [42]
    finally:
        checked_now.disconnect(double)


def test_the_payload_is_checked(app):
    with pytest.raises(TypeError, match="carries"):
        department_named.publish(department=1)
    assert events.catalogue()["test.department_named"] is department_named
    with pytest.raises(ValueError, match="twice"):
        events.event("test.department_named", "again", ())
