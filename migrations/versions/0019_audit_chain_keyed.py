"""Audit rows authenticated with keyed MACs; TRUNCATE refused; only the seal may change a row
(issue 16).

Rows not yet sealed are first sealed by the old plain SHA-256 rule, so every row without a key
id is a sealed legacy row and the chain stays intact across the upgrade. Then each row gains
a random `uid`, the `key_id` of the audit key it was written under and its `mac`. On
PostgreSQL the row trigger now compares the whole row (not a fixed column list) so the only
UPDATE allowed is the sealer setting the seal columns once, and a statement trigger refuses
TRUNCATE of the audit trail and the e-signatures.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import hashlib
import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
LEGACY_COLUMNS = (
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
_json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
audit_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("actor_id", sa.Integer),
    sa.column("actor_label", sa.String),
    sa.column("action", sa.String),
    sa.column("entity", sa.String),
    sa.column("entity_id", sa.String),
    sa.column("before", _json),
    sa.column("after", _json),
    sa.column("reason", sa.Text),
    sa.column("request_id", sa.String),
    sa.column("ip", sa.String),
    sa.column("chain_seq", sa.BigInteger),
    sa.column("prev_hash", sa.String),
    sa.column("row_hash", sa.String),
)


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _legacy_hash(row, chain_seq: int, prev_hash: str) -> str:
    """The chain's rule before keys (app.audit.chain.legacy_row_hash)."""
    content = dict(zip(LEGACY_COLUMNS, row, strict=True))
    at = content["at"]
    if isinstance(at, datetime) and at.tzinfo is not None:
        content["at"] = at.replace(tzinfo=None)
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(f"{prev_hash}|{chain_seq}|{body}".encode()).hexdigest()


def _seal_pending_legacy(bind) -> None:
    head = bind.execute(
        sa.select(audit_log.c.chain_seq, audit_log.c.row_hash)
        .where(audit_log.c.chain_seq.is_not(None))
        .order_by(audit_log.c.chain_seq.desc())
        .limit(1)
    ).first()
    seq, prev = (head[0], head[1]) if head else (0, GENESIS)
    rows = bind.execute(
        sa.select(*(audit_log.c[name] for name in LEGACY_COLUMNS))
        .where(audit_log.c.row_hash.is_(None))
        .order_by(audit_log.c.id)
    ).all()
    for row in rows:
        seq += 1
        digest = _legacy_hash(row, seq, prev)
        bind.execute(
            audit_log.update()
            .where(audit_log.c.id == row[0])
            .values(chain_seq=seq, prev_hash=prev, row_hash=digest)
        )
        prev = digest


ROW_GUARD = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    -- The sealer's one UPDATE: the seal columns set once, every other column (whichever
    -- columns the table has) unchanged.
    IF TG_OP = 'UPDATE' AND OLD.row_hash IS NULL AND NEW.row_hash IS NOT NULL
       AND NEW.chain_seq IS NOT NULL AND NEW.prev_hash IS NOT NULL
       AND to_jsonb(NEW) - ARRAY['chain_seq', 'prev_hash', 'row_hash']
           IS NOT DISTINCT FROM to_jsonb(OLD) - ARRAY['chain_seq', 'prev_hash', 'row_hash']
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""

OLD_ROW_GUARD = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.row_hash IS NULL AND NEW.row_hash IS NOT NULL
       AND (NEW.id, NEW.at, NEW.actor_id, NEW.actor_label, NEW.action, NEW.entity,
            NEW.entity_id, NEW.before, NEW.after, NEW.reason, NEW.request_id, NEW.ip)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.at, OLD.actor_id, OLD.actor_label, OLD.action, OLD.entity,
            OLD.entity_id, OLD.before, OLD.after, OLD.reason, OLD.request_id, OLD.ip)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""

TRUNCATE_GUARD = """
CREATE OR REPLACE FUNCTION append_only_no_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (TRUNCATE refused)', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
"""
GUARDED = ("audit_log", "e_signatures")


def upgrade():
    bind = op.get_bind()
    _seal_pending_legacy(bind)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_audit_log_uid"), ["uid"])
    if bind.dialect.name == "postgresql":
        op.execute(ROW_GUARD)
        op.execute(TRUNCATE_GUARD)
        for table in GUARDED:
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION append_only_no_truncate()"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in GUARDED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS append_only_no_truncate()")
        op.execute(OLD_ROW_GUARD)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_log_uid"), type_="unique")
        batch_op.drop_column("mac")
        batch_op.drop_column("key_id")
        batch_op.drop_column("uid")
