"""Module kinds: what a kind of module does in the player beyond the common steps.

Learning owns the kinds (MODULE_KINDS) and the common steps (read, watch, quiz, assignment); a
domain that gives a kind its own behaviour registers it here: the gxp domain makes "sop" a
read-and-understand step the learner signs with an e-signature.

A kind is completable when a learner has a way to finish it: the common steps (read, watch,
acknowledge, graded quiz or assignment) or a registered `sign`/`complete` hook. Publishing
refuses a course whose required modules include a kind that is not ("scenario" until its own
player arrives), so no mandatory course can be impossible to finish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.learning.models import MODULE_KINDS


@dataclass(frozen=True)
class KindBehaviour:
    # Extra template context for the player's panel of this kind: panel(view) -> dict.
    panel: Callable[[Any], dict] | None = None
    # Completes the module with the learner's e-signature: sign(enrollment_id, module_id, user,
    # password); raises Invalid (password), RateLimited or Conflict.
    sign: Callable[..., Any] | None = None
    # What the learner is told once they have signed.
    signed_message: str = "Signed."
    # True when the kind's own player completes it some other way (a future scenario runner).
    completes: bool = False


_behaviours: dict[str, KindBehaviour] = {}
# Kinds the common player steps complete: read/watch/acknowledge, or graded.
COMMON_COMPLETABLE = ("text", "video", "document", "quiz", "assignment")


def register(kind: str, behaviour: KindBehaviour) -> None:
    """Give module kind `kind` its behaviour (once per kind)."""
    if kind not in MODULE_KINDS:
        raise ValueError(f"unknown module kind {kind!r}")
    _behaviours[kind] = behaviour


def behaviour(kind: str) -> KindBehaviour:
    """The behaviour registered for `kind`; none (the common steps only) if none was."""
    return _behaviours.get(kind, KindBehaviour())


def is_completable(kind: str) -> bool:
    """True when a learner can complete a module of `kind` in the player today."""
    if kind in COMMON_COMPLETABLE:
        return True
    registered = _behaviours.get(kind)
    return registered is not None and (registered.sign is not None or registered.completes)
