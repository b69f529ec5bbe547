"""Electronic signatures in the spirit of 21 CFR Part 11.

Signing re-asks the password (identity = the signed-in account, plus its password), records
the printed name, UTC and local time, the meaning, and a SHA-256 of the signed record's content.
A record changed after signing no longer hashes to that value and shows "signature invalid".

Callers sign *before* changing anything and commit the signature with their change, so a
signature never exists without the state it approves (and a failed signature changes nothing).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import g, has_request_context, request
from sqlalchemy import select

from app.audit.labels import citations
from app.audit.models import SIGNATURE_MEANINGS, ESignature
from app.extensions import db
from app.people import auth
from app.people.models import NOT_A_PERSON, User
from app.platform import clock
from app.platform.audit import record_audit
from app.platform.errors import Invalid
from app.platform.timefmt import zone

BAD_SIGNATURE = "The password is not correct. Failed signatures slow down further sign-in attempts."

# entity -> function(entity_id) returning the JSON-safe content a signature covers, or None
# when the record is gone. Services register theirs at import time.
_CONTENT: dict[str, Callable[[str], dict | None]] = {}


def signed_content(entity: str):
    """Register the function that returns what a signature on `entity` records covers."""

    def register(fn: Callable[[str], dict | None]):
        _CONTENT[entity] = fn
        return fn

    return register


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, set | tuple):
        return sorted(value) if isinstance(value, set) else list(value)
    return value


def content_hash(content: dict) -> str:
    """SHA-256 of canonical JSON (sorted keys, no spaces): the same content, the same hash."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(text.encode()).hexdigest()


def local_time(moment: datetime, tz_name: str | None) -> tuple[str, str]:
    """Return (timezone name, "YYYY-MM-DD HH:MM:SS TZ") for showing a moment to a person."""
    where = zone(tz_name)
    return where.key, moment.astimezone(where).strftime("%Y-%m-%d %H:%M:%S %Z")


def check_signer(signer: User, password: str | None) -> None:
    """Re-authenticate the signer; wrong passwords count toward the sign-in throttle.

    Raises RateLimited while the account must wait after failed passwords, Invalid for a
    missing or wrong password. Commits only the failed attempt, so call it before changing
    anything.
    """
    if signer.is_service_account:
        raise Invalid(NOT_A_PERSON, {"password": [NOT_A_PERSON]})
    ip = request.remote_addr if has_request_context() else None
    keys = auth.throttle_keys(signer.email, ip)
    auth.check_throttle(keys)
    if not password:
        raise Invalid(
            "Enter your password to sign.", {"password": ["Enter your password to sign."]}
        )
    if not auth.check_password(signer, password) or not signer.active:
        auth.record_failed_attempt(signer.email, ip, keys)
        raise Invalid(BAD_SIGNATURE, {"password": [BAD_SIGNATURE]})


def sign(
    *,
    signer: User,
    password: str | None,
    meaning: str,
    entity: str,
    entity_id: Any,
    statement: str,
    content: dict | None = None,
    reason: str | None = None,
    checked: bool = False,
    at: datetime | None = None,
) -> ESignature:
    """Verify the password and add a signature to the session (the caller commits).

    `content` defaults to the registered content function of `entity`; pass it when the
    record's signed state is what the caller is about to commit. `checked=True` when the
    caller already ran check_signer before writing anything (a record signed as it is created).
    `at` only for records brought in from the past (demo history); signatures are append-only,
    so the time is set here, never afterwards.
    """
    if meaning not in SIGNATURE_MEANINGS:
        raise ValueError(f"unknown signature meaning {meaning!r}")
    if not checked:
        check_signer(signer, password)
    if content is None:
        content = _CONTENT[entity](str(entity_id)) or {}
    now = at or clock.now()
    tz_name, shown = local_time(now, signer.timezone)
    sig = ESignature(
        user_id=signer.id,
        printed_name=signer.name,
        meaning=meaning,
        statement=statement,
        entity=entity,
        entity_id=str(entity_id),
        content_hash=content_hash(content),
        signed_at=now,
        timezone=tz_name,
        local_time=shown,
        reason=reason,
    )
    if has_request_context():
        sig.ip = request.remote_addr
        sig.request_id = g.get("request_id")
    db.session.add(sig)
    db.session.flush()
    record_audit(
        "sign",
        entity,
        entity_id,
        after={
            "signature_id": sig.id,
            "meaning": meaning,
            "statement": statement,
            "content_hash": sig.content_hash,
        },
        reason=reason,
        actor=signer,
    )
    return sig


@dataclass(frozen=True)
class Manifestation:
    """What every page shows of a signature: name, date/time, meaning, and whether it holds."""

    id: int
    printed_name: str
    meaning: str
    statement: str
    signed_at: datetime
    local_time: str
    valid: bool | None  # None: the signed record no longer exists or is not checkable
    # What was signed, by name: "Approved SOP-QA-001 version 2" (computed when shown; the
    # stored signature is never changed).
    citation: str = ""


def _current_hashes(entity: str, entity_ids: Iterable[str]) -> dict[str, str | None]:
    fn = _CONTENT.get(entity)
    if fn is None:
        return {}
    out = {}
    for entity_id in entity_ids:
        content = fn(entity_id)
        out[entity_id] = content_hash(content) if content is not None else None
    return out


def manifestations(entity: str, entity_ids: Iterable[Any]) -> dict[str, list[Manifestation]]:
    """Signatures on each record, oldest first, checked against the record's current content.

    One query for the signatures; the validity check costs one content lookup per signed record.
    """
    ids = sorted({str(i) for i in entity_ids})
    if not ids:
        return {}
    rows = db.session.scalars(
        select(ESignature)
        .where(ESignature.entity == entity, ESignature.entity_id.in_(ids))
        .order_by(ESignature.signed_at, ESignature.id)
    ).all()
    current = _current_hashes(entity, {r.entity_id for r in rows})
    cited = citations((entity, r.entity_id) for r in rows)
    out: dict[str, list[Manifestation]] = defaultdict(list)
    for r in rows:
        now_hash = current.get(r.entity_id)
        out[r.entity_id].append(
            Manifestation(
                id=r.id,
                printed_name=r.printed_name,
                meaning=r.meaning_label,
                statement=r.statement,
                signed_at=r.signed_at,
                local_time=r.local_time,
                valid=None if now_hash is None else now_hash == r.content_hash,
                citation=f"{r.meaning_label} {cited[(entity, r.entity_id)]}",
            )
        )
    return dict(out)


def manifestations_for(entity: str, entity_id: Any) -> list[Manifestation]:
    return manifestations(entity, [entity_id]).get(str(entity_id), [])


def cite(signatures: Iterable[ESignature]) -> dict[int, str]:
    """Signature id -> the record it signed, by name: "SOP-FUL-002 'Picking' version 3",
    "certificate CAD-2026-0000042 (GMP-101 ...)"; one query per kind of record."""
    signatures = list(signatures)
    cited = citations((s.entity, s.entity_id) for s in signatures)
    return {s.id: cited[(s.entity, s.entity_id)] for s in signatures}


def signatures_by_user(user_id: int) -> list[ESignature]:
    """Every signature a person gave, oldest first (the employee record lists them)."""
    return list(
        db.session.scalars(
            select(ESignature).where(ESignature.user_id == user_id).order_by(ESignature.id)
        )
    )


def is_valid(sig: ESignature) -> bool | None:
    """Does the signed record still hash to what was signed? None if it cannot be checked."""
    current = _current_hashes(sig.entity, [sig.entity_id]).get(sig.entity_id)
    return None if current is None else current == sig.content_hash
