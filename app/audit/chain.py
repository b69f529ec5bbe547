"""The audit trail's hash chain: each row carries the previous row's hash and its own.

Rows are written by many transactions at once (and in bulk by INSERT ... SELECT), so they are
chained after they commit: the sealer takes committed rows without a hash in id order, gives
each the next chain position, the previous row's hash, and a SHA-256 over its content and that
previous hash. PostgreSQL lets the sealer set those three columns once and refuses every other
UPDATE or DELETE. Changing, removing or reordering a sealed row breaks the chain from that row
on; `verify_chain` finds the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from flask import g, has_app_context
from sqlalchemy import func, select, text, update

from app.extensions import db
from app.platform import events
from app.platform.audit import AuditLog, record_audit
from app.platform.sql import advisory_xact_lock

GENESIS = "0" * 64
sealed_batch = events.event(
    "audit.sealed",
    "Audit rows joined the hash chain. Delivered inside the sealer's transaction and under its"
    " lock; `touched` lists the (entity, entity_id) of each row, in order.",
    ("touched",),
    in_transaction=True,
)

# pg_advisory_xact_lock key: one sealer at a time across every process.
_SEAL_LOCK = 0x5EA1_A0D1
CONTENT_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "entity",
    "entity_id",
    "before",
    "after",
    "reason",
    "request_id",
    "ip",
)
_COLUMNS = [getattr(AuditLog, c) for c in CONTENT_COLUMNS]
# A sealed row as a verifier needs it: the hashed content, then its chain position and hashes.
CHAINED_COLUMNS = [*_COLUMNS, AuditLog.chain_seq, AuditLog.prev_hash, AuditLog.row_hash]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def row_hash(content: dict, chain_seq: int, prev_hash: str) -> str:
    """SHA-256 over the previous hash, the position and the canonical JSON of the content."""
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(f"{prev_hash}|{chain_seq}|{body}".encode()).hexdigest()


def _content(row) -> dict:
    out = dict(zip(CONTENT_COLUMNS, row, strict=True))
    at = out["at"]
    # The same instant reads back naive from SQLite and aware from PostgreSQL; hash it one way.
    if isinstance(at, datetime) and at.tzinfo is not None:
        out["at"] = at.replace(tzinfo=None)
    return out


def hold_seal_lock(wait: bool = True) -> bool:
    """Take the sealer's lock for this transaction (one sealer, or one stored-status rebuild,
    at a time across every process); False if wait=False and someone else holds it."""
    return advisory_xact_lock(_SEAL_LOCK, wait=wait)


def seal_pending(*, wait: bool = True, batch: int = 5000) -> int:
    """Chain every committed row that has no hash yet; return how many were sealed.

    With wait=False it gives up at once when another sealer is running (that one, or the next
    run, will take these rows), so a web request never queues behind a big seal.
    """
    db.session.commit()  # start from a clean transaction: the lock lives until our commit
    if not hold_seal_lock(wait):
        db.session.rollback()
        return 0
    head = db.session.execute(
        select(AuditLog.chain_seq, AuditLog.row_hash)
        .where(AuditLog.chain_seq.is_not(None))
        .order_by(AuditLog.chain_seq.desc())
        .limit(1)
    ).first()
    seq, prev = (head[0], head[1]) if head else (0, GENESIS)
    sealed, after_id = 0, 0
    touched: list[tuple[str, str]] = []  # (entity, entity_id) of each sealed row
    while True:
        # Keyset, not "the first N unsealed": rows sealed by earlier batches stay in the
        # partial index as dead entries until VACUUM, and rescanning them made each batch of
        # a big seal slower than the last.
        rows = db.session.execute(
            select(*_COLUMNS)
            .where(AuditLog.row_hash.is_(None), AuditLog.id > after_id)
            .order_by(AuditLog.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        params = []
        for row in rows:
            seq += 1
            digest = row_hash(_content(row), seq, prev)
            params.append({"id": row[0], "chain_seq": seq, "prev_hash": prev, "row_hash": digest})
            prev = digest
        _write_seals(params)
        touched.extend((row[5], row[6]) for row in rows)
        sealed += len(params)
        after_id = rows[-1][0]
        if len(rows) < batch:
            break
    # Under the same lock and in the same transaction: whatever keeps a copy of what these rows
    # changed (the stored compliance statuses) brings it up to date, so it is current exactly
    # when nothing is left unsealed.
    sealed_batch.publish(touched=touched)
    db.session.commit()
    return sealed


_SEAL_BATCH_PG = text(
    "UPDATE audit_log SET chain_seq = v.chain_seq, prev_hash = v.prev_hash, row_hash = v.row_hash"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS bigint[]), CAST(:prevs AS text[]),"
    " CAST(:hashes AS text[])) AS v(id, chain_seq, prev_hash, row_hash)"
    " WHERE audit_log.id = v.id"
)


def _write_seals(params: list[dict]) -> None:
    """Store a batch of seals: one UPDATE over arrays on PostgreSQL (a statement per row cost
    most of a 400,000-row seal), an executemany elsewhere."""
    if db.engine.dialect.name != "postgresql":
        db.session.execute(update(AuditLog), params)
        return
    db.session.execute(
        _SEAL_BATCH_PG,
        {
            "ids": [p["id"] for p in params],
            "seqs": [p["chain_seq"] for p in params],
            "prevs": [p["prev_hash"] for p in params],
            "hashes": [p["row_hash"] for p in params],
        },
    )


@dataclass
class ChainReport:
    checked: int = 0
    unsealed: int = 0
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def as_dict(self) -> dict:
        return asdict(self) | {"intact": self.intact}


def verify_chain(batch: int = 10_000) -> ChainReport:
    """Walk the chain in order and report the first broken link (None when intact)."""
    report = ChainReport(
        unsealed=db.session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.row_hash.is_(None))
        )
        or 0
    )
    expected_seq, prev = 1, GENESIS
    last = 0
    n = len(CONTENT_COLUMNS)
    while True:
        rows = db.session.execute(
            select(*CHAINED_COLUMNS)
            .where(AuditLog.chain_seq > last)
            .order_by(AuditLog.chain_seq)
            .limit(batch)
        ).all()
        for row in rows:
            seq, prev_hash, digest = row[n], row[n + 1], row[n + 2]
            problem = None
            if seq != expected_seq:
                problem = f"chain position {expected_seq} is missing (a row was removed)"
            elif prev_hash != prev:
                problem = "the previous-row hash does not match (rows removed or reordered)"
            elif digest != row_hash(_content(row[:n]), seq, prev_hash):
                problem = "the row's content does not match its hash (the row was changed)"
            if problem:
                # A gap is reported at the missing position, next to the row after it.
                report.broken_seq = min(seq, expected_seq)
                report.broken_id, report.problem = row[0], problem
                return report
            report.checked += 1
            expected_seq, prev, last = seq + 1, digest, seq
        if len(rows) < batch:
            return report


def verify_and_record(actor=None) -> ChainReport:
    """Seal what is pending, verify, and keep the result as an audit row of its own."""
    seal_pending(wait=True)
    report = verify_chain()
    record_audit(
        "verify",
        "audit_chain",
        "all",
        after=report.as_dict(),
        reason=None if report.intact else report.problem,
        actor=actor,
    )
    db.session.commit()
    return report


def chain_counts() -> dict[str, int]:
    """How many entries are chained and how many still wait for the sealer."""
    total, unsealed = db.session.execute(
        select(
            func.count(),
            func.count().filter(AuditLog.row_hash.is_(None)),
        ).select_from(AuditLog)
    ).one()
    return {"total": total, "sealed": total - unsealed, "unsealed": unsealed}


def last_verification() -> AuditLog | None:
    return db.session.scalar(
        select(AuditLog)
        .where(AuditLog.entity == "audit_chain", AuditLog.action == "verify")
        .order_by(AuditLog.id.desc())
        .limit(1)
    )


def seal_if_written() -> None:
    """End of a request or job: seal its rows now, unless another sealer is busy."""
    if has_app_context() and g.pop("cadre_audit_written", False):
        try:
            seal_pending(wait=False)
        except Exception:  # noqa: BLE001 - sealing later is fine; never fail the response
            db.session.rollback()
