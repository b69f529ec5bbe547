"""Domain events: how an effect travels upward without the lower package importing the upper.

A lower domain declares an event and publishes it; an upper domain connects a handler in its
init_app. Most events are delivered after the publishing transaction commits (the handler sees
the committed change and owns its own transaction); an event declared `in_transaction=True`
is delivered at once, inside the publisher's transaction, and its handlers say so.
The catalogue of every event is in the README ("Architecture").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from blinker import Signal

from app.platform import db as database

log = logging.getLogger("cadre.events")

PENDING = "cadre_pending_events"


@dataclass(eq=False)
class Event:
    """A named domain event with a documented payload."""

    name: str
    doc: str
    payload: tuple[str, ...]
    in_transaction: bool = False
    signal: Signal = field(default_factory=Signal, repr=False)
    _receivers: dict = field(default_factory=dict, repr=False)

    def connect(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Subscribe `handler(**payload)`; usable as a decorator. Idempotent."""
        if handler not in self._receivers:

            def receiver(_sender, **payload):
                return handler(**payload)

            self._receivers[handler] = receiver
            self.signal.connect(receiver, weak=False)
        return handler

    def disconnect(self, handler: Callable[..., Any]) -> None:
        receiver = self._receivers.pop(handler, None)
        if receiver is not None:
            self.signal.disconnect(receiver)

    def publish(self, **payload) -> list[Any]:
        """Deliver now when in_transaction, else once the current transaction commits (nothing
        on rollback). Returns the handlers' answers when delivered now, else []."""
        self._check(payload)
        if self.in_transaction:
            return self.send(**payload)
        database.db.session.info.setdefault(PENDING, []).append((self, payload))
        return []

    def send(self, **payload) -> list[Any]:
        """Deliver at once to every handler and return their answers (for a publisher that has
        committed already, or an in-transaction event)."""
        self._check(payload)
        return [answer for _handler, answer in self.signal.send(None, **payload)]

    def _check(self, payload: dict) -> None:
        if set(payload) != set(self.payload):
            raise TypeError(f"{self.name} carries {self.payload}, not {tuple(sorted(payload))}")


_catalogue: dict[str, Event] = {}


def event(name: str, doc: str, payload: tuple[str, ...], *, in_transaction: bool = False) -> Event:
    """Declare an event (once per name)."""
    if name in _catalogue:
        raise ValueError(f"event {name!r} is declared twice")
    declared = Event(name, doc, payload, in_transaction)
    _catalogue[name] = declared
    return declared


def catalogue() -> dict[str, Event]:
    """Every declared event by name."""
    return dict(_catalogue)


def after_commit(action: Callable[[], Any]) -> None:
    """Run `action()` once the current transaction commits (never if it rolls back): for an
    in-transaction handler whose follow-up must see the committed state."""
    database.db.session.info.setdefault(PENDING, []).append((action, None))


def deliver_pending(session) -> None:
    """Send the events published in the transaction `session` has just committed, in order.
    A handler may commit and publish in turn; those follow after its own commit."""
    pending = session.info.pop(PENDING, None)
    for declared, payload in pending or ():
        if payload is None:
            declared()
        else:
            declared.send(**payload)


def discard_pending(session) -> None:
    """Forget the events of a transaction that rolled back."""
    session.info.pop(PENDING, None)


database.after_commit.append(deliver_pending)
database.after_rollback.append(discard_pending)
