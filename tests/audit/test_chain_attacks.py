"""The five attacks of issue 16 on the audit trail, made as the database owner (guard triggers
off; tests/audit/test_chain.py: tamper), each detected by verification; key rotation and
rows sealed before keys keep the trail verifiable."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from app.audit import checkpoints
from app.audit.chain import (
    GENESIS,
    _content,
    chain_hash,
    legacy_row_hash,
    seal_pending,
    verify_and_record,
    verify_chain,
)
from app.extensions import db
from app.platform import audit_keys, clock
from app.platform.audit import MAC_COLUMNS, AuditLog, record_audit, row_mac
from tests.audit.test_chain import _rows, _Tampering, tamper
from tests.conftest import BACKEND, _overrides, as_owner

COLUMNS = [
    getattr(AuditLog, c) for c in ("id", *MAC_COLUMNS, "mac", "chain_seq", "prev_hash", "row_hash")
]


def _row(row_id: int) -> dict:
    return dict(db.session.execute(select(*COLUMNS).where(AuditLog.id == row_id)).one()._mapping)


def _forge(**values) -> int:
    """A plain INSERT of an audit row, as the owner can always do; returns its id."""
    base = {
        "at": clock.now(),
        "actor_label": "Quinn QA <qa@example.com>",
        "action": "update",
        "entity": "certification",
        "entity_id": "7",
        "reason": "backfilled",
    }
    base.update(values)
    # Core, not the ORM: no MAC is computed for it.
    return db.session.execute(insert(AuditLog.__table__).values(**base)).inserted_primary_key[0]


def _kinds(report) -> list[tuple[str, int | None]]:
    return [(f.kind, f.row_id) for f in report.findings]


# --- (a) a forged row added with a plain INSERT -----------------------------------------------


def test_a_forged_row_with_a_made_up_mac_is_never_chained_and_is_reported(app):
    _rows(2)
    seal_pending()
    ring = audit_keys.ring()
    with _Tampering():
        forged = _forge(uid=secrets.token_hex(16), key_id=ring.current_id, mac="ab" * 32)
        bare = _forge()  # no MAC at all
    _rows(1)  # genuine rows written after it are chained past it

    assert seal_pending() == 1
    assert _row(forged)["row_hash"] is None and _row(bare)["row_hash"] is None
    report = verify_chain()
    assert report.checked == 3 and not report.intact
    assert sorted(_kinds(report)) == [("forged", forged), ("forged", bare)]
    assert "MAC does not match" in str(next(f for f in report.findings if f.row_id == forged))


def test_a_forged_row_inserted_already_sealed_is_reported(app):
    """The owner chains the forged row too, by the old plain SHA-256 rule."""
    _rows(2)
    seal_pending()
    head = _row(2)
    ring = audit_keys.ring()
    with _Tampering() as t:
        forged = _forge(uid=secrets.token_hex(16), key_id=ring.current_id, mac="cd" * 32)
        row = _row(forged)
        t.run(
            "UPDATE audit_log SET chain_seq = 3, prev_hash = :p, row_hash = :h WHERE id = :id",
            p=head["row_hash"],
            h=legacy_row_hash(_content(row), 3, head["row_hash"]),
            id=forged,
        )
    report = verify_chain()
    assert _kinds(report) == [("forged", forged)]
    assert report.findings[0].chain_seq == 3


def test_a_copy_of_a_genuine_row_is_refused_and_reported(app):
    """A copied uid and MAC with other content fails the MAC; an exact copy passes its MAC but
    the uid is refused by the unique index, and, with that dropped, reported as a replay."""
    (genuine,) = _rows(1)
    seal_pending()
    src = _row(genuine)
    copied = {k: src[k] for k in ("uid", "key_id", "mac")}
    with _Tampering(), pytest.raises(IntegrityError), db.session.begin_nested():
        _forge(**copied)
    if BACKEND != "postgresql":
        return  # SQLite cannot drop the unique constraint of a table
    # The owner drops the unique index, forges, and puts it back afterwards for other tests.
    tamper("ALTER TABLE audit_log DROP CONSTRAINT uq_audit_log_uid")
    forged = []
    try:
        forged.append(_forge(**copied))
        forged.append(
            _forge(**{k: src[k] for k in MAC_COLUMNS if src[k] is not None}, mac=src["mac"])
        )
        db.session.commit()
        report = verify_chain()
        assert {k for k, _ in _kinds(report)} == {"forged"}
        assert {i for _, i in _kinds(report)} == set(forged)
        assert f"a copy of entry #{genuine}" in " ".join(f.detail for f in report.findings)
    finally:
        db.session.rollback()
        for row_id in forged:
            tamper("DELETE FROM audit_log WHERE id = :id", id=row_id)
        tamper("ALTER TABLE audit_log ADD CONSTRAINT uq_audit_log_uid UNIQUE (uid)")
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 1


def test_the_sealer_refuses_a_row_whose_key_it_does_not_know(app):
    with _Tampering():
        values = {"at": clock.now(), "actor_label": "x", "action": "create", "entity": "user"}
        values |= {"entity_id": "1", "uid": secrets.token_hex(16), "key_id": "stolen"}
        values["mac"] = row_mac(values, b"a key that is not in the ring")
        forged = _forge(**values)
    assert seal_pending() == 0
    assert "unknown key" in verify_chain().findings[0].detail
    assert verify_chain().findings[0].row_id == forged


# --- (b) a row in the middle deleted ----------------------------------------------------------


def test_a_row_deleted_from_the_middle_is_reported_missing(app):
    ids = _rows(5)
    seal_pending()
    with _Tampering() as t:
        t.run("DELETE FROM audit_log WHERE id = :id", id=ids[2])
    report = verify_chain()
    assert [(f.kind, f.chain_seq) for f in report.findings] == [("missing", 3)]
    assert report.checked == 4


# --- (c) the last rows deleted ----------------------------------------------------------------


def test_the_last_rows_deleted_are_reported_from_the_checkpoint(app):
    _rows(4)
    assert verify_and_record().intact  # publishes a checkpoint at position 4
    seal_pending()  # the verification's own row: position 5
    with _Tampering() as t:
        t.run("DELETE FROM audit_log WHERE chain_seq >= 3")
    report = verify_chain()
    assert report.count == 2 and report.checked == 2
    assert [(f.kind, f.chain_seq, f.to_seq) for f in report.findings] == [("truncated", 3, 4)]
    assert "recorded 4 chained entries" in report.findings[0].detail


def test_the_scheduled_checkpoint_publishes_the_head_once(app):
    from app.platform.jobs import registered, run_job

    assert registered()["audit.checkpoint"].schedule == "AUDIT_CHECKPOINT_CRON"
    _rows(3)
    first = run_job("audit.checkpoint")
    assert first and first.startswith("audit-checkpoints/000000000003-")
    assert run_job("audit.checkpoint") is None  # nothing new since
    (mark,), _ = checkpoints.load_checkpoints()
    assert (mark.count, mark.head) == (3, _row(3)["row_hash"])


def test_a_checkpoint_not_signed_with_an_audit_key_is_reported_not_trusted(app):
    from app.platform.storage import get_storage

    _rows(2)
    seal_pending()
    key = checkpoints.write_checkpoint(2, _row(2)["row_hash"], 0)
    storage = get_storage()
    storage.put(key, storage.get(key).replace(b'"count": 2', b'"count": 9'), "application/json")
    report = verify_chain()
    assert report.kinds == {"forged": 1} and "not signed" in report.findings[0].detail


# --- (d) TRUNCATE -----------------------------------------------------------------------------


@pytest.mark.skipif(BACKEND != "postgresql", reason="the TRUNCATE guard is PostgreSQL's")
def test_postgresql_refuses_truncate(app):
    _rows(2)
    db.session.commit()
    for table in ("audit_log", "e_signatures"):
        # As the owner: the app's own role may not even try (test_app_role).
        with pytest.raises(DBAPIError, match="append-only"), as_owner() as owner:
            owner.execute(text(f"TRUNCATE {table}"))
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 2


def test_a_truncated_trail_is_reported_from_the_checkpoint(app):
    _rows(3)
    assert verify_and_record().intact
    with _Tampering() as t:  # the guard bypassed
        t.run("TRUNCATE audit_log" if BACKEND == "postgresql" else "DELETE FROM audit_log")
    report = verify_chain()
    assert report.count == 0
    assert [(f.kind, f.chain_seq, f.to_seq) for f in report.findings] == [("truncated", 1, 3)]


# --- (e) a row edited and every later row re-hashed -------------------------------------------


def _rehash_from(position: int, seal) -> None:
    """Edit the row at `position`, then re-chain it and every later row with `seal`."""
    rows = db.session.execute(
        select(*COLUMNS).where(AuditLog.chain_seq >= position).order_by(AuditLog.chain_seq)
    ).all()
    prev = _row_at(position - 1)["row_hash"] if position > 1 else GENESIS
    with _Tampering() as t:
        t.run("UPDATE audit_log SET reason = 'edited' WHERE chain_seq = :s", s=position)
        for row in rows:
            values = _row(row.id)
            values["mac"] = seal["mac"](values) if "mac" in seal else values["mac"]
            digest = seal["hash"](values, prev)
            t.run(
                "UPDATE audit_log SET mac = :m, prev_hash = :p, row_hash = :h WHERE id = :id",
                m=values["mac"],
                p=prev,
                h=digest,
                id=row.id,
            )
            prev = digest


def _row_at(position: int) -> dict:
    return _row(db.session.scalar(select(AuditLog.id).where(AuditLog.chain_seq == position)))


def test_an_edit_rehashed_with_plain_sha256_is_reported(app):
    ids = _rows(5)
    seal_pending()
    _rehash_from(
        2,
        {"hash": lambda v, prev: legacy_row_hash(_content(v), v["chain_seq"], prev)},
    )
    report = verify_chain()
    assert report.checked == 1
    assert _kinds(report) == [("forged", ids[1])] + [("altered", i) for i in ids[2:]]


def test_an_edit_rehashed_with_hmac_under_a_wrong_key_is_reported(app):
    ids = _rows(5)
    seal_pending()
    wrong = b"the owner's guess at the audit key"
    _rehash_from(
        2,
        {
            "mac": lambda v: row_mac(v, wrong),
            "hash": lambda v, prev: chain_hash(wrong, prev, v["chain_seq"], v),
        },
    )
    report = verify_chain()
    assert report.checked == 1
    assert {f.row_id for f in report.findings} == set(ids[1:])
    assert all(f.kind in {"forged", "altered"} for f in report.findings)


def test_a_rewrite_that_the_checkpoint_saw_is_reported_as_rewritten(app):
    """Even rows the owner re-chained as if sealed before keys: the checkpoint knows better."""
    ids = _rows(3)
    assert verify_and_record().intact  # checkpoint at position 3
    seal_pending()
    with _Tampering() as t:
        t.run("UPDATE audit_log SET key_id = NULL, uid = NULL, mac = NULL")
    prev = GENESIS
    with _Tampering() as t:
        for position in range(1, 5):
            values = _row_at(position)
            digest = legacy_row_hash(_content(values), position, prev)
            t.run(
                "UPDATE audit_log SET prev_hash = :p, row_hash = :h WHERE chain_seq = :s",
                p=prev,
                h=digest,
                s=position,
            )
            prev = digest
    report = verify_chain()
    assert ("rewritten", ids[2]) in _kinds(report)
    assert {k for k, _ in _kinds(report)} == {"rewritten", "forged"}


def test_swapped_rows_are_reported(app):
    ids = _rows(4)
    seal_pending()
    with _Tampering() as t:
        t.run("UPDATE audit_log SET chain_seq = -1 WHERE chain_seq = 2")
        t.run("UPDATE audit_log SET chain_seq = 2 WHERE chain_seq = 3")
        t.run("UPDATE audit_log SET chain_seq = 3 WHERE chain_seq = -1")
    report = verify_chain()
    assert not report.intact
    assert {f.row_id for f in report.findings} >= {ids[1], ids[2]}


# --- keys: rotation, and rows sealed before keys ----------------------------------------------


def test_rotating_the_key_keeps_every_row_verifiable(app, runner, tmp_path):
    key_file = tmp_path / "audit_keys"
    key_file.write_text("k1:" + "1" * 40 + "\n")
    app.config["AUDIT_KEY_FILE"] = str(key_file)
    audit_keys.init_app(app)
    _rows(2)
    seal_pending()

    result = runner.invoke(args=["audit", "rotate-key"])
    assert result.exit_code == 0, result.output
    ring = audit_keys.ring()
    assert ring.current_id != "k1" and list(ring.keys)[1] == "k1"
    _rows(2)
    seal_pending()
    assert db.session.scalars(select(AuditLog.key_id).order_by(AuditLog.id)).all() == [
        "k1",
        "k1",
        ring.current_id,
        ring.current_id,
    ]
    report = verify_and_record()
    assert report.intact and report.checked == 4

    # A process started before the rotation learns the new key when it meets it.
    stale = audit_keys.KeyRing({"k1": b"1" * 40}, source=Path(key_file))
    app.extensions["cadre_audit_keys"] = stale
    stale.mtime = key_file.stat().st_mtime_ns
    assert verify_chain().intact


def test_a_ring_from_the_environment_verifies_old_rows_under_its_old_keys(app):
    app.extensions["cadre_audit_keys"] = audit_keys.load({"AUDIT_KEYS": "k1:" + "a" * 32})
    _rows(2)
    seal_pending()
    ring = audit_keys.load({"AUDIT_KEYS": f"k2:{'b' * 32}, k1:{'a' * 32}"})
    app.extensions["cadre_audit_keys"] = ring
    _rows(1)
    seal_pending()
    assert verify_chain().intact
    app.extensions["cadre_audit_keys"] = audit_keys.load({"AUDIT_KEYS": "k2:" + "b" * 32})
    report = verify_chain()  # k1 dropped from the ring: its rows cannot be vouched for
    assert report.kinds == {"forged": 2} and "unknown audit key 'k1'" in report.findings[0].detail


def test_without_configuration_a_key_file_is_generated_once(tmp_path):
    config = {"INSTANCE_DIR": str(tmp_path)}
    first = audit_keys.load(config)
    assert (tmp_path / "audit_keys").stat().st_mode & 0o777 == 0o600
    assert audit_keys.load(config).keys == first.keys
    with pytest.raises(audit_keys.KeyRingError):
        audit_keys.load({"AUDIT_KEY_FILE": str(tmp_path / "missing")})
    with pytest.raises(audit_keys.KeyRingError):
        audit_keys.load({"AUDIT_KEYS": "k1:short"})


def test_rows_sealed_before_keys_still_verify_and_keyed_rows_follow(app):
    """An upgraded trail: legacy rows (no key, plain SHA-256) lead the chain, keyed rows go on
    from their head, and the whole verifies intact."""
    ids = _rows(3)
    prev = GENESIS
    with _Tampering() as t:  # as the code before keys wrote and sealed them
        t.run("UPDATE audit_log SET uid = NULL, key_id = NULL, mac = NULL")
        for seq, row_id in enumerate(ids, start=1):
            digest = legacy_row_hash(_content(_row(row_id)), seq, prev)
            t.run(
                "UPDATE audit_log SET chain_seq = :s, prev_hash = :p, row_hash = :h WHERE id = :id",
                s=seq,
                p=prev,
                h=digest,
                id=row_id,
            )
            prev = digest
    _rows(2)
    assert seal_pending() == 2
    report = verify_and_record()
    assert report.intact and report.legacy == 3 and report.checked == 5
    with _Tampering() as t:
        t.run("UPDATE audit_log SET reason = 'edited' WHERE id = :id", id=ids[0])
    assert _kinds(verify_chain()) == [("altered", ids[0])]


def test_the_upgrade_seals_pending_rows_by_the_old_rule_and_stays_intact(tmp_path):
    """Migration 0019 on a trail written by the code before keys (SQLite file of its own)."""
    from flask_migrate import upgrade

    from app import create_app

    app = create_app(
        {
            **_overrides(),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'u.db'}",
            "DATABASE_OWNER_URL": None,
        }
    )
    with app.app_context():
        upgrade(revision="0014")
        insert = text(
            "INSERT INTO audit_log (at, actor_label, action, entity, entity_id, after)"
            " VALUES (:at, 'system', 'create', 'course', :e, :after)"
        )
        for n in range(3):
            db.session.execute(
                insert, {"at": "2026-12-07 09:30:00.000000", "e": str(n), "after": "{}"}
            )
        db.session.commit()
        upgrade()
        assert db.session.scalar(select(func.count()).where(AuditLog.row_hash.is_(None))) == 0
        record_audit("update", "course", 1, after={"title": "new"})
        db.session.commit()
        seal_pending()
        report = verify_chain(checkpoints=[])
        assert report.intact and report.legacy == 3 and report.checked == 4
        db.session.remove()


# --- the writers ------------------------------------------------------------------------------


@pytest.mark.skipif(BACKEND != "postgresql", reason="the guard trigger is PostgreSQL's")
def test_postgresql_refuses_changing_any_column_while_sealing(app):
    """The row guard compares whole rows: a column added after it (means) cannot be changed
    alongside the seal either."""
    (first,) = _rows(1)
    with pytest.raises(DBAPIError, match="append-only"), as_owner() as owner:
        owner.execute(
            text(
                "UPDATE audit_log SET chain_seq = 1, prev_hash = 'x', row_hash = 'x',"
                " means = 'forged' WHERE id = :id"
            ),
            {"id": first},
        )
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"), as_owner() as owner:
        owner.execute(text("UPDATE audit_log SET mac = 'x' WHERE id = :id"), {"id": first})
    db.session.rollback()
    assert seal_pending() == 1


def test_set_based_audit_rows_are_authenticated_and_chained(app):
    """record_audit_for_inserted writes each row with its MAC, in bulk."""
    from sqlalchemy import literal

    from app.people.models import Department
    from app.platform.audit import record_audit_for_inserted

    now = clock.now()
    floor = db.session.scalar(select(func.max(Department.id))) or 0
    for n in range(7):
        db.session.add(Department(name=f"Dept {n}", created_at=now))
    db.session.flush()
    made = record_audit_for_inserted(
        Department, "department", ["name"], now, floor, literal("bulk"), None
    )
    db.session.commit()
    assert made == 7
    rows = db.session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [r.after for r in rows] == [{"name": f"Dept {n}"} for n in range(7)]
    assert {r.reason for r in rows} == {"bulk"} and all(r.mac and r.uid for r in rows)
    assert seal_pending() == 7
    assert verify_chain().intact
