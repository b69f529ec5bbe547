"""The audit trail's hash chain: each row carries the previous row's hash and its own.

Every row is authenticated when written (app.platform.audit: a random uid and an HMAC of its
content under the current audit key, a key kept outside the database). Rows are written by
many transactions at once, so they are chained after they commit: the sealer takes committed
rows without a hash in id order, refuses any whose MAC is wrong (a row forged with a plain
INSERT stays unsealed and verification names it), and gives each the next chain position, the
previous row's hash and an HMAC under the row's key over position, previous hash, id, uid and
MAC. PostgreSQL lets the sealer set those three columns once and refuses every other UPDATE,
any DELETE and TRUNCATE. Rows sealed before keys existed (no key id) verify by the plain
SHA-256 rule they were sealed with.

What the database owner could still do unseen inside the table (delete the newest rows,
truncate) is caught by the signed checkpoints of the chain's head kept in object storage
(app.audit.checkpoints). `verify_chain` walks everything and lists every finding.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from flask import g, has_app_context
from sqlalchemy import func, select, text, update

from app.audit import checkpoints as cp
from app.extensions import db
from app.platform import audit_keys, events
from app.platform.audit import MAC_COLUMNS, AuditLog, record_audit, row_mac
from app.platform.jobs import job
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
# What a row sealed before keys existed was hashed over (the legacy rule).
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
# A sealed row as the inspection export shows it: the content, its chain position and hashes.
CHAINED_COLUMNS = [*_COLUMNS, AuditLog.chain_seq, AuditLog.prev_hash, AuditLog.row_hash]
# Everything a verifier reads of a row.
_ALL = list(dict.fromkeys(["id", *MAC_COLUMNS, "mac", "chain_seq", "prev_hash", "row_hash"]))
_ALL_COLUMNS = [getattr(AuditLog, c) for c in _ALL]

# A report keeps this many findings (with counts by kind of all of them).
MAX_FINDINGS = 500


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def legacy_row_hash(content: dict, chain_seq: int, prev_hash: str) -> str:
    """The rule before keys: SHA-256 over the previous hash, the position and the canonical
    JSON of the legacy content columns."""
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(f"{prev_hash}|{chain_seq}|{body}".encode()).hexdigest()


# The tests and older callers knew it by this name.
row_hash = legacy_row_hash


def _content(row) -> dict:
    """A row's legacy content (its CONTENT_COLUMNS values, in order, or a mapping)."""
    if isinstance(row, dict):
        out = {c: row[c] for c in CONTENT_COLUMNS}
    else:
        out = dict(zip(CONTENT_COLUMNS, row, strict=True))
    at = out["at"]
    # The same instant reads back naive from SQLite and aware from PostgreSQL; hash it one way.
    if isinstance(at, datetime) and at.tzinfo is not None:
        out["at"] = at.replace(tzinfo=None)
    return out


def chain_hash(secret: bytes, prev_hash: str, chain_seq: int, row: dict) -> str:
    """A keyed row's link: HMAC over its position, the previous hash, its id, uid and MAC
    (the MAC covers the rest of its content)."""
    return audit_keys.sign(
        secret, f"chain|{prev_hash}|{chain_seq}|{row['id']}|{row['uid']}|{row['mac']}"
    )


def hold_seal_lock(wait: bool = True) -> bool:
    """Take the sealer's lock for this transaction (one sealer, or one stored-status rebuild,
    at a time across every process); False if wait=False and someone else holds it."""
    return advisory_xact_lock(_SEAL_LOCK, wait=wait)


def _authentic(row: dict, ring: audit_keys.KeyRing) -> bool:
    secret = ring.get(row["key_id"])
    return (
        secret is not None
        and row["uid"] is not None
        and audit_keys.same(row["mac"], row_mac(row, secret))
    )


def seal_pending(*, wait: bool = True, batch: int = 5000) -> int:
    """Chain every committed, authentic row that has no hash yet; return how many were sealed.

    A row whose MAC is wrong, whose key is unknown or whose uid another row already has is
    left unsealed (verification reports it as forged). With wait=False it gives up at once
    when another sealer is running (that one, or the next run, will take these rows), so a
    web request never queues behind a big seal.
    """
    db.session.commit()  # start from a clean transaction: the lock lives until our commit
    if not hold_seal_lock(wait):
        db.session.rollback()
        return 0
    ring = audit_keys.ring()
    head = db.session.execute(
        select(AuditLog.chain_seq, AuditLog.row_hash)
        .where(AuditLog.chain_seq.is_not(None))
        .order_by(AuditLog.chain_seq.desc())
        .limit(1)
    ).first()
    seq, prev = (head[0], head[1]) if head else (0, GENESIS)
    sealed = 0
    touched: list[tuple[str, str]] = []  # (entity, entity_id) of each sealed row
    for rows in _unsealed_batches(batch):
        taken = _uids_in_chain([r["uid"] for r in rows if r["uid"]])
        params = []
        for row in rows:
            if not _authentic(row, ring) or row["uid"] in taken:
                continue  # forged: never chained
            taken.add(row["uid"])
            seq += 1
            digest = chain_hash(ring.get(row["key_id"]), prev, seq, row)
            params.append(
                {"id": row["id"], "chain_seq": seq, "prev_hash": prev, "row_hash": digest}
            )
            touched.append((row["entity"], row["entity_id"]))
            prev = digest
        if params:
            _write_seals(params)
        sealed += len(params)
    # Under the same lock and in the same transaction: whatever keeps a copy of what these rows
    # changed (the stored compliance statuses) brings it up to date, so it is current exactly
    # when nothing is left unsealed.
    sealed_batch.publish(touched=touched)
    db.session.commit()
    return sealed


def _unsealed_batches(batch: int):
    """The rows outside the chain, in id order, `batch` at a time (as dicts of every column).

    Keyset, not "the first N unsealed": rows sealed by earlier batches stay in the partial
    index as dead entries until VACUUM, and rescanning them made each batch of a big seal
    slower than the last. A caller may seal a batch before asking for the next.
    """
    after_id = 0
    while True:
        rows = [
            dict(r._mapping)
            for r in db.session.execute(
                select(*_ALL_COLUMNS)
                .where(AuditLog.row_hash.is_(None), AuditLog.id > after_id)
                .order_by(AuditLog.id)
                .limit(batch)
            )
        ]
        if rows:
            yield rows
        if len(rows) < batch:
            return
        after_id = rows[-1]["id"]


def _uids_in_chain(uids: list[str]) -> set[str]:
    if not uids:
        return set()
    if db.engine.dialect.name == "postgresql":
        found = db.session.scalars(
            text(
                "SELECT uid FROM audit_log WHERE uid = ANY(string_to_array(:uids, ','))"
                " AND row_hash IS NOT NULL"
            ),
            {"uids": ",".join(uids)},
        )
    else:
        found = db.session.scalars(
            select(AuditLog.uid).where(AuditLog.uid.in_(uids), AuditLog.row_hash.is_not(None))
        )
    return set(found)


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


# --- verification ----------------------------------------------------------------------------

KINDS = {
    "missing": "missing",
    "forged": "forged",
    "altered": "altered",
    "reordered": "reordered",
    "truncated": "truncated after a checkpoint",
    "rewritten": "rewritten since a checkpoint",
}


@dataclass
class Finding:
    kind: str  # one of KINDS
    detail: str
    chain_seq: int | None = None  # the chain position (None: a row outside the chain)
    row_id: int | None = None
    to_seq: int | None = None  # a run of missing positions ends here

    @property
    def where(self) -> str:
        parts = []
        if self.chain_seq is not None:
            span = f"{self.chain_seq}–{self.to_seq}" if self.to_seq else str(self.chain_seq)
            parts.append(f"position {span}")
        if self.row_id is not None:
            parts.append(f"entry #{self.row_id}")
        return ", ".join(parts) or "the trail"

    def __str__(self) -> str:
        return f"{KINDS.get(self.kind, self.kind)} at {self.where}: {self.detail}"


@dataclass
class ChainReport:
    checked: int = 0  # chained entries that verified
    unsealed: int = 0  # authentic entries waiting to be chained
    count: int = 0  # the head's chain position
    head: str | None = None  # the head's hash
    legacy: int = 0  # entries sealed before keys, verified by the plain SHA-256 rule
    checkpoints: int = 0  # signed checkpoints compared
    findings: list[Finding] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)  # every finding by kind

    def add(self, finding: Finding) -> None:
        self.kinds[finding.kind] = self.kinds.get(finding.kind, 0) + 1
        if len(self.findings) < MAX_FINDINGS:
            self.findings.append(finding)

    @property
    def intact(self) -> bool:
        return not self.kinds

    @property
    def total_findings(self) -> int:
        return sum(self.kinds.values())

    @property
    def _first(self) -> Finding | None:
        chained = [f for f in self.findings if f.chain_seq is not None]
        return (
            min(chained, key=lambda f: f.chain_seq) if chained else next(iter(self.findings), None)
        )

    @property
    def broken_seq(self) -> int | None:
        return self._first.chain_seq if self._first else None

    @property
    def broken_id(self) -> int | None:
        return self._first.row_id if self._first else None

    @property
    def problem(self) -> str | None:
        """One line saying what is wrong (None when intact)."""
        if self.intact:
            return None
        counts = ", ".join(f"{n} {KINDS.get(k, k)}" for k, n in sorted(self.kinds.items()))
        return f"{counts}; first: {self._first}"

    def as_dict(self, limit: int = 50) -> dict:
        """What the verification's audit row keeps: counts, head, and the first findings."""
        out = asdict(self)
        out["findings"] = [asdict(f) | {"text": str(f)} for f in self.findings[:limit]]
        out["total_findings"] = self.total_findings
        out["intact"] = self.intact
        return out


def verify_chain(batch: int = 10_000, checkpoints: list | None = None) -> ChainReport:
    """Walk the whole trail and report every finding: positions missing, rows forged (bad MAC,
    unknown key, replayed uid, never sealed), altered (content or chain hash changed after
    sealing), reordered, and what the signed checkpoints say was there (tail deleted,
    truncated, chain rewritten). `checkpoints` defaults to those in object storage."""
    ring = audit_keys.ring()
    report = ChainReport()
    if checkpoints is None:
        checkpoints, unsigned = cp.load_checkpoints()
        for key in unsigned:
            report.add(Finding("forged", f"checkpoint {key} is not signed with an audit key"))
    marks = checkpoints
    report.checkpoints = len(marks)
    at_position = {m.count: m for m in marks}
    legacy_limit = min((m.legacy_through for m in marks), default=None)
    expected_seq, prev_stored, last = 1, GENESIS, 0
    keyed_seen, prev_flagged = False, False
    while True:
        rows = [
            dict(r._mapping)
            for r in db.session.execute(
                select(*_ALL_COLUMNS)
                .where(AuditLog.chain_seq > last)
                .order_by(AuditLog.chain_seq)
                .limit(batch)
            )
        ]
        for row in rows:
            seq = row["chain_seq"]
            gap = seq != expected_seq
            if gap:
                report.add(
                    Finding(
                        "missing",
                        "these chain positions are gone (entries deleted)",
                        expected_seq,
                        None,
                        seq - 1 if seq - 1 > expected_seq else None,
                    )
                )
            problem = _row_problem(row, ring, keyed_seen, legacy_limit)
            if row["key_id"] is not None:
                keyed_seen = True
            else:
                report.legacy += 1
            if problem is None and not gap and not prev_flagged and row["prev_hash"] != prev_stored:
                problem = _link_problem(row)
            if problem:
                report.add(Finding(problem[0], problem[1], seq, row["id"]))
            else:
                report.checked += 1
            mark = at_position.get(seq)
            if mark is not None and mark.head != row["row_hash"]:
                report.add(
                    Finding(
                        "rewritten",
                        f"the checkpoint of {mark.at} recorded another hash here: the chain was"
                        " rewritten",
                        seq,
                        row["id"],
                    )
                )
            prev_flagged = problem is not None
            expected_seq, prev_stored, last = seq + 1, row["row_hash"], seq
            report.count, report.head = seq, row["row_hash"]
        if len(rows) < batch:
            break
    _check_tail(report, marks)
    _check_unsealed(report, ring)
    _check_replayed_uids(report)
    report.findings.sort(key=lambda f: (f.chain_seq is None, f.chain_seq or 0, f.row_id or 0))
    return report


def _row_problem(row: dict, ring, keyed_seen: bool, legacy_limit: int | None):
    """(kind, detail) of what is wrong with a chained row on its own, or None."""
    seq = row["chain_seq"]
    if row["key_id"] is None:
        if keyed_seen or (legacy_limit is not None and seq > legacy_limit):
            return "forged", "sealed without an audit key after keys were in use"
        if row["row_hash"] != legacy_row_hash(_content(row), seq, row["prev_hash"]):
            return "altered", "its content does not match its hash (sealed before keys)"
        return None
    secret = ring.get(row["key_id"])
    if secret is None:
        return "forged", f"sealed under an unknown audit key {row['key_id']!r}"
    mac_ok = row["uid"] is not None and audit_keys.same(row["mac"], row_mac(row, secret))
    seal_ok = audit_keys.same(row["row_hash"], chain_hash(secret, row["prev_hash"], seq, row))
    if not mac_ok and not seal_ok:
        return "forged", "neither its MAC nor its chain hash was made with the audit key"
    if not mac_ok:
        return "altered", "its content was changed after it was sealed (the MAC does not match)"
    if not seal_ok:
        return "altered", "its chain hash was rewritten (not made with the audit key)"
    return None


def _link_problem(row: dict):
    """The row verifies on its own but does not follow the row before it."""
    elsewhere = db.session.execute(
        select(AuditLog.id, AuditLog.chain_seq).where(AuditLog.row_hash == row["prev_hash"])
    ).first()
    if elsewhere is not None:
        return (
            "reordered",
            f"it was chained after entry #{elsewhere.id} (now at position {elsewhere.chain_seq}),"
            " not after the entry before it",
        )
    return "missing", "the entry it was chained after is gone"


def _check_tail(report: ChainReport, marks) -> None:
    """A checkpoint further along than the chain: the newest rows were deleted or the table
    was truncated."""
    furthest = max(marks, key=lambda m: m.count, default=None)
    if furthest is not None and furthest.count > report.count:
        report.add(
            Finding(
                "truncated",
                f"the checkpoint of {furthest.at} recorded {furthest.count} chained entries;"
                f" the chain now ends at {report.count} (newest entries deleted or the trail"
                " truncated)",
                report.count + 1,
                None,
                furthest.count if furthest.count > report.count + 1 else None,
            )
        )


def _check_unsealed(report: ChainReport, ring) -> None:
    """Rows outside the chain: authentic ones are pending; the rest were never written by the
    application (the sealer refused them)."""
    for rows in _unsealed_batches(5000):
        for row in rows:
            if _authentic(row, ring):
                report.unsealed += 1
            elif row["key_id"] is None or row["mac"] is None:
                report.add(Finding("forged", "inserted without a MAC", None, row["id"]))
            elif ring.get(row["key_id"]) is None:
                report.add(
                    Finding(
                        "forged", f"MAC under an unknown key {row['key_id']!r}", None, row["id"]
                    )
                )
            else:
                report.add(Finding("forged", "its MAC does not match its content", None, row["id"]))


def _check_replayed_uids(report: ChainReport) -> None:
    """A copy of a genuine row (uid and MAC included) passes its own MAC; its uid gives it away
    (the unique index refuses it, unless the owner dropped that)."""
    dup = (
        select(AuditLog.uid)
        .where(AuditLog.uid.is_not(None))
        .group_by(AuditLog.uid)
        .having(func.count() > 1)
    )
    rows = db.session.execute(
        select(AuditLog.id, AuditLog.uid, AuditLog.chain_seq)
        .where(AuditLog.uid.in_(dup))
        .order_by(AuditLog.uid, AuditLog.chain_seq.is_(None), AuditLog.chain_seq, AuditLog.id)
    ).all()
    first: dict[str, int] = {}
    for row in rows:
        if row.uid not in first:
            first[row.uid] = row.id
            continue
        report.add(
            Finding(
                "forged",
                f"a copy of entry #{first[row.uid]} (same uid and MAC)",
                row.chain_seq,
                row.id,
            )
        )


def verify_and_record(actor=None) -> ChainReport:
    """Seal what is pending, verify, publish a signed checkpoint of the head, and keep the
    result (with the head's position and hash) as an audit row of its own."""
    seal_pending(wait=True)
    report = verify_chain()
    if report.count:
        cp.write_checkpoint(report.count, report.head, report.legacy)
    record_audit(
        "verify",
        "audit_chain",
        "all",
        after=report.as_dict(),
        reason=report.problem,
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


def chain_head() -> tuple[int, str | None, int]:
    """(position, hash) of the chain's head and how many legacy rows lead it."""
    head = db.session.execute(
        select(AuditLog.chain_seq, AuditLog.row_hash)
        .where(AuditLog.chain_seq.is_not(None))
        .order_by(AuditLog.chain_seq.desc())
        .limit(1)
    ).first()
    legacy = db.session.scalar(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.chain_seq.is_not(None), AuditLog.key_id.is_(None))
    )
    return (head[0], head[1], legacy or 0) if head else (0, None, 0)


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


def checkpoint_head() -> str | None:
    """Seal what is pending and publish the head unless the latest checkpoint has it already;
    return the new checkpoint's storage key."""
    seal_pending(wait=True)
    count, head, legacy = chain_head()
    if not count:
        return None
    last = cp.latest()
    if last is not None and (last.count, last.head) == (count, head):
        return None
    return cp.write_checkpoint(count, head, legacy)


@job("audit.checkpoint", schedule="AUDIT_CHECKPOINT_CRON", timeout=600)
def checkpoint_job() -> str | None:
    """Scheduled: publish a signed checkpoint of the audit chain's head (app.audit.checkpoints)."""
    return checkpoint_head()
