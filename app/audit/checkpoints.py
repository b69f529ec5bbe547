"""Signed checkpoints of the audit chain's head, kept outside the database.

Whoever owns the database can delete the newest rows or truncate the table and leave a chain
that verifies on its own. So the head (its position and hash, and how many legacy rows lead
the chain) is published to object storage under audit-checkpoints/: by a scheduled job
(AUDIT_CHECKPOINT_CRON) and at every verification. Each checkpoint is signed with an HMAC
under a key derived from the audit key ring, and verification compares the chain with every
checkpoint: positions a checkpoint saw that are gone, or a different hash at a checkpointed
position, are reported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from app.platform import audit_keys, clock
from app.platform.storage import get_storage

PREFIX = "audit-checkpoints/"
PURPOSE = "checkpoint"


@dataclass(frozen=True)
class Checkpoint:
    count: int  # the head's chain position
    head: str  # the head's hash
    legacy_through: int  # how many rows sealed before keys lead the chain
    at: str  # when it was written (UTC, ISO 8601)
    key: str  # the storage key it was read from


def _body(fields: dict) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"))


def _signature(secret: bytes, fields: dict) -> str:
    return audit_keys.sign(audit_keys.derived(secret, PURPOSE), _body(fields))


def write_checkpoint(count: int, head: str, legacy_through: int) -> str:
    """Store a signed checkpoint of the head; return its storage key."""
    ring = audit_keys.ring()
    now = clock.now()
    fields = {
        "version": 1,
        "count": count,
        "head": head,
        "legacy_through": legacy_through,
        "at": now.isoformat(),
        "key_id": ring.current_id,
    }
    signed = fields | {"signature": _signature(ring.current, fields)}
    key = f"{PREFIX}{count:012d}-{now:%Y%m%dT%H%M%S%fZ}.json"
    get_storage().put(key, json.dumps(signed, indent=1).encode(), "application/json")
    return key


def load_checkpoints() -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint whose signature verifies, and the keys of those that do not (a forged
    checkpoint must neither hide a truncation nor cry wolf)."""
    ring = audit_keys.ring()
    storage = get_storage()
    out, bad = [], []
    for key in storage.keys(PREFIX):
        try:
            data = json.loads(storage.get(key))
            fields = {k: v for k, v in data.items() if k != "signature"}
            secret = ring.get(fields.get("key_id"))
            valid = secret is not None and audit_keys.same(
                data.get("signature"), _signature(secret, fields)
            )
            mark = Checkpoint(
                int(fields["count"]),
                str(fields["head"]),
                int(fields["legacy_through"]),
                str(fields["at"]),
                key,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            valid = False
        if valid:
            out.append(mark)
        else:
            bad.append(key)
    return out, bad


def latest() -> Checkpoint | None:
    marks, _ = load_checkpoints()
    return max(marks, key=lambda m: (m.count, m.at), default=None)
