"""Segregation of duties, the platform's one rule: the person who performs an act never also
approves it. Every approval path (certificates, waivers, document versions, attendance
sign-off) asks `require_distinct` before it signs or writes anything, so a refusal changes
nothing and costs no password attempt.
"""

from __future__ import annotations

from typing import Any

from app.platform.errors import Forbidden


class SelfApproval(Forbidden):
    """One person would both perform and approve the same act (403 at the edge)."""

    title = "Segregation of duties"


def _person_id(person: Any) -> int | None:
    return getattr(person, "id", person)


def require_distinct(performer: Any, approver: Any, what: str) -> None:
    """Refuse when `approver` is the person who performed `what` (users or user ids; None,
    someone unknown, is never refused).

    `what` is the whole refusal as the person reads it, e.g. "You issued certificate
    CAD-M-0000007; another person must approve it." Raises SelfApproval.
    """
    performer_id, approver_id = _person_id(performer), _person_id(approver)
    if performer_id is not None and performer_id == approver_id:
        raise SelfApproval(f"Segregation of duties: {what}")
