"""The audit trail's writer: every service adds its audit row here, in its own transaction.

The trail itself (reading it, the hash chain, e-signatures) is the audit domain's; writing a row
knows no domain, so every domain from people upward can record its changes.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import click
from flask import g, has_app_context, has_request_context, request
from flask_login import current_user
from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    insert,
    select,
    text,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import BindParameter, ClauseElement

from app.extensions import db
from app.platform import audit_keys, clock
from app.platform.db import JSONType, UTCDateTime


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity", "entity_id"),
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_id", "actor_id"),
        Index("ix_audit_log_action", "action"),
        # The sealer's work list: rows not yet in the hash chain.
        Index(
            "ix_audit_log_unsealed",
            "id",
            postgresql_where=text("row_hash IS NULL"),
            sqlite_where=text("row_hash IS NULL"),
        ),
        # The trail without system-generated entries (see PERSON_MADE), newest first.
        Index(
            "ix_audit_log_person_made",
            "id",
            postgresql_where=text("actor_id IS NOT NULL AND request_id IS NOT NULL"),
            sqlite_where=text("actor_id IS NOT NULL AND request_id IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Kept beside actor_id so the row still reads right if the account is renamed.
    actor_label: Mapped[str] = mapped_column(String(300), default="system")
    action: Mapped[str] = mapped_column(String(20))  # create / update / delete / grant / revoke ...
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(60))
    before: Mapped[dict | None] = mapped_column(JSONType)
    after: Mapped[dict | None] = mapped_column(JSONType)
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(64))
    # How the change was made: "session", "token:<id>", "job:<name>", "cli", "system" ...
    means: Mapped[str | None] = mapped_column(String(80))
    # The person a service account or an admin acted for, when not the actor themself.
    on_behalf_of_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The hash chain (app.audit.chain): position, the previous row's hash, and this
    # row's hash over its content and prev_hash. Set once by the sealer, never changed.
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))
    # Authenticated when written: a random uid, the audit key it was written (and is chained)
    # under, and an HMAC of the row's content under that key (see authenticate). None on rows
    # sealed before keys existed (they verify by the plain SHA-256 rule).
    uid: Mapped[str | None] = mapped_column(String(32), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(16))
    mac: Mapped[str | None] = mapped_column(String(64))

    actor = relationship("User", foreign_keys=[actor_id])
    on_behalf_of = relationship("User", foreign_keys=[on_behalf_of_id])

    @property
    def system_generated(self) -> bool:
        """Written by the system, a job or a set-based bulk run rather than by a person's
        request (the audit page can hide these)."""
        return self.actor_id is None or self.request_id is None


def person_made():
    """SQL condition: the row was written in a person's request (not system-generated)."""
    return AuditLog.actor_id.is_not(None) & AuditLog.request_id.is_not(None)


def snapshot(obj, fields: list[str]) -> dict[str, Any]:
    """Return a JSON-safe dict of `fields` of `obj` for before/after columns."""
    out = {}
    for name in fields:
        value = getattr(obj, name)
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif isinstance(value, set):
            value = sorted(value)
        out[name] = value
    return out


def read_back(obj):
    """Flush `obj` and expire its columns, so the next snapshot of it reads what the database
    holds, not what the object was told: after-images are read back from what was written.

    Use it for every after-image built from a model object: `after=snapshot(read_back(x), F)`.
    """
    state = sa_inspect(obj)
    if state.persistent or state.pending:
        db.session.flush()
        # Table columns only: a query_expression or column_property is no stored value.
        stored = [a.key for a in state.mapper.column_attrs if isinstance(a.expression, Column)]
        db.session.expire(obj, stored)
    return obj


def current_actor(actor=None):
    """Who a change is recorded against: `actor` if given, none for background work (the
    system), else the signed-in user."""
    if actor is not None:
        return actor
    if g.get("cadre_job"):
        return None  # background work acts as the system
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def audit_means() -> str:
    """By what means the change is being made: "job:<name>" (background work), "token:<id>" (an
    API token; app.api sets g.api_token), "session" (a browser request), "cli:<command>" (a
    flask command), else "system"."""
    if not has_app_context():
        return "system"
    job = g.get("cadre_job")
    if job:
        return f"job:{job}"[:80]
    token = g.get("api_token")
    if token is not None:
        return f"token:{token.id}"
    if has_request_context():
        return "session"
    command = click.get_current_context(silent=True)
    if command is not None and command.info_name:
        return f"cli:{command.info_name}"[:80]
    return "system"


def on_behalf_of_id() -> int | None:
    """The person the current work is done for, when not the actor: the requester of a job,
    or the person a service account names in its On-Behalf-Of header."""
    return g.get("cadre_on_behalf_of") if has_app_context() else None


def requester_id() -> int | None:
    """Whom work started now is for (jobs.enqueue keeps it with the job): whoever the current
    work is on behalf of, else the person or service account making this request."""
    if not has_app_context():
        return None
    if g.get("cadre_on_behalf_of") is not None or g.get("cadre_job"):
        return g.get("cadre_on_behalf_of")
    who = g.get("api_actor")
    if who is None and has_request_context() and current_user and current_user.is_authenticated:
        who = current_user
    return who.id if who is not None else None


def record_audit(
    action: str,
    entity: str,
    entity_id,
    *,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
    actor=None,
) -> AuditLog:
    """Add an audit row to the current transaction (the caller commits)."""
    actor_id, actor_label = actor_columns(actor)
    row = AuditLog(
        actor_id=actor_id,
        actor_label=actor_label,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
        reason=reason,
        means=audit_means(),
        on_behalf_of_id=on_behalf_of_id(),
    )
    if has_request_context():
        row.request_id = g.get("request_id")
        row.ip = request.remote_addr
    db.session.add(row)
    g.cadre_audit_written = True  # sealed into the hash chain when the request or job ends
    return row


def system_label() -> str:
    """How a change made by no person reads: the system, naming the job if one runs."""
    job = g.get("cadre_job") if has_app_context() else None
    return f"system ({job.rsplit('.', 1)[-1]})" if job else "system"


def actor_columns(actor=None) -> tuple[int | None, str]:
    """(actor_id, actor_label) of an audit row for `actor` (see current_actor)."""
    who = current_actor(actor)
    if who is None:
        return None, system_label()
    return who.id, f"{who.name} <{who.email}>"


# Columns a row's MAC does not cover: the id (unknown before the INSERT; the chain hash covers
# it), the MAC itself and what the sealer sets. Every other column is covered, a column added
# later too (NULLs are left out of the canonical form, so older rows still verify).
UNMACED = frozenset({"id", "mac", "chain_seq", "prev_hash", "row_hash"})
MAC_COLUMNS = tuple(c.name for c in AuditLog.__table__.columns if c.name not in UNMACED)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        # The same instant reads back naive from SQLite and aware from PostgreSQL.
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def canonical(values: Mapping[str, Any]) -> str:
    """The canonical JSON of a row's MAC-covered content (`values` by column name)."""
    body = {name: values[name] for name in MAC_COLUMNS if values.get(name) is not None}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=_plain)


def row_mac(values: Mapping[str, Any], secret: bytes) -> str:
    return audit_keys.sign(secret, "row|" + canonical(values))


def authenticate(values: dict[str, Any], ring: audit_keys.KeyRing | None = None) -> dict:
    """Give a row about to be inserted its uid, key id and MAC under the current key."""
    ring = ring or audit_keys.ring()
    values["uid"] = values.get("uid") or secrets.token_hex(16)
    values["key_id"] = ring.current_id
    values["mac"] = row_mac(values, ring.current)
    return values


@event.listens_for(AuditLog, "before_insert")
def _authenticate_row(mapper, connection, row: AuditLog) -> None:
    """Every row added through the ORM (record_audit) is authenticated as it is inserted,
    from the values it is inserted with."""
    if row.at is None:
        row.at = clock.now()
    if row.actor_label is None:
        row.actor_label = "system"
    values = {name: getattr(row, name) for name in MAC_COLUMNS}
    for name in ("before", "after"):
        # As the database will hand it back (string keys, lists for tuples).
        if values[name] is not None:
            values[name] = json.loads(json.dumps(values[name], default=_plain))
    authenticate(values)
    row.uid, row.key_id, row.mac = values["uid"], values["key_id"], values["mac"]


INSERT_BATCH = 5000


def insert_audit_rows(rows: Iterable[dict[str, Any]]) -> int:
    """Insert audit rows built in Python (plain JSON-safe values by column name), each
    authenticated, in batches of one multi-row INSERT; return how many. Every row must name the
    same columns."""
    ring = audit_keys.ring()
    means, behalf = audit_means(), on_behalf_of_id()
    batch: list[dict] = []
    count = 0
    for values in rows:
        values.setdefault("means", means)
        values.setdefault("on_behalf_of_id", behalf)
        batch.append(authenticate(values, ring))
        if len(batch) >= INSERT_BATCH:
            _insert_batch(batch)
            count, batch = count + len(batch), []
    if batch:
        _insert_batch(batch)
        count += len(batch)
    if count:
        g.cadre_audit_written = True  # sealed into the hash chain when the request or job ends
    return count


def _pg_type(column) -> str:
    if isinstance(column.type, UTCDateTime):
        return "timestamptz"
    if column.name in ("before", "after"):
        return "jsonb"
    if isinstance(column.type, Integer):
        return "bigint"
    return "text"


def _instant(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    return _plain(value)


def _insert_batch(batch: list[dict]) -> None:
    """One INSERT for a batch: on PostgreSQL from one JSON document of the rows (psycopg's
    executemany sends a statement per row, and its array parameters are escaped in Python;
    either cost more than the rest of a 200,000-row engine run), an executemany elsewhere."""
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.execute(insert(AuditLog.__table__), batch)
        return
    columns = [AuditLog.__table__.c[name] for name in batch[0]]
    names = ", ".join(c.name for c in columns)
    shape = ", ".join(f"{c.name} {_pg_type(c)}" for c in columns)
    # Names and types come from the table's own columns, never from input.
    sql = (
        f"INSERT INTO audit_log ({names}) SELECT {names}"  # noqa: S608
        f" FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({shape})"
    )
    db.session.execute(text(sql), {"rows": json.dumps(batch, default=_instant)})


def _json_safe(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def record_audit_for_inserted(
    model, entity: str, fields: list[str], now, floor_id: int, reason, actor
) -> int:
    """Audit every row of `model` a set-based insert just added (id above `floor_id`, created_at
    `now`), one "create" row each with `fields` as the after-image.

    The rows are read in id-ordered batches and their audit rows inserted in bulk from Python,
    each with its MAC (app.platform.audit_keys): an INSERT ... SELECT could not authenticate
    them. `reason` is a string, a SQL literal, or an expression over `model`'s row.
    """
    actor_id, label = actor_columns(actor)
    if isinstance(reason, BindParameter):
        reason = reason.value
    per_row = isinstance(reason, ClauseElement)
    columns = [model.id, *(getattr(model, name) for name in fields)]
    if per_row:
        columns.append(reason)
    means, behalf = audit_means(), on_behalf_of_id()
    total, after_id = 0, floor_id
    while True:
        found = db.session.execute(
            select(*columns)
            .where(model.id > after_id, model.created_at == now)
            .order_by(model.id)
            .limit(INSERT_BATCH)
        ).all()
        if not found:
            break
        total += insert_audit_rows(
            {
                "at": now,
                "actor_id": actor_id,
                "actor_label": label,
                "action": "create",
                "entity": entity,
                "entity_id": str(row[0]),
                "before": None,
                "after": {
                    name: _json_safe(value) for name, value in zip(fields, row[1:], strict=False)
                },
                "reason": row[-1] if per_row else reason,
                "means": means,
                "on_behalf_of_id": behalf,
            }
            for row in found
        )
        after_id = found[-1][0]
        if len(found) < INSERT_BATCH:
            break
    return total
