"""The audit trail's hash chain: sealing, verification, the first broken link, history view."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.audit.chain import GENESIS, seal_pending, verify_chain
from app.extensions import db
from app.platform.audit import AuditLog, record_audit
from tests.conftest import BACKEND, as_owner, csrf
from tests.people.factories import UserFactory


def _rows(n: int) -> list[int]:
    ids = []
    for i in range(n):
        row = record_audit("update", "course", i + 1, before={"title": f"t{i}"}, after={"n": i})
        db.session.flush()
        ids.append(row.id)
    db.session.commit()
    return ids


class _Tampering:
    """What the database owner could do: each statement as the schema's owner, in a transaction
    of its own with PostgreSQL's guard triggers switched off (the app's role may do none of
    this). The app's session is committed first, so the owner sees what it wrote."""

    def __enter__(self):
        return self

    def run(self, sql: str, **params):
        return tamper(sql, **params)

    def __exit__(self, *exc):
        db.session.expire_all()


def tamper(sql: str, **params):
    """Run one statement as the owner with the trail's guard triggers off; return its result's
    first column of the first row, if any."""
    with as_owner() as owner:
        if BACKEND == "postgresql":
            owner.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        result = owner.execute(text(sql), params)
        value = result.scalar() if result.returns_rows else None
        if BACKEND == "postgresql":
            owner.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    db.session.expire_all()
    return value


def test_sealing_links_each_row_to_the_previous(app):
    ids = _rows(3)
    assert seal_pending() == 3
    rows = db.session.scalars(select(AuditLog).order_by(AuditLog.chain_seq)).all()
    assert [r.id for r in rows] == ids and [r.chain_seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS
    assert rows[1].prev_hash == rows[0].row_hash and rows[2].prev_hash == rows[1].row_hash
    assert seal_pending() == 0  # nothing twice
    report = verify_chain()
    assert report.intact and report.checked == 3


def test_a_seal_in_several_batches_chains_every_row_once_in_id_order(app):
    ids = _rows(7)
    assert seal_pending(batch=3) == 7  # batches of 3, 3 and 1
    rows = db.session.execute(
        select(AuditLog.id, AuditLog.chain_seq).order_by(AuditLog.chain_seq)
    ).all()
    assert [r.id for r in rows] == ids and [r.chain_seq for r in rows] == list(range(1, 8))
    more = _rows(2)  # a later seal continues the chain from its head
    assert seal_pending(batch=3) == 2
    assert db.session.scalars(
        select(AuditLog.chain_seq).where(AuditLog.id.in_(more)).order_by(AuditLog.id)
    ).all() == [8, 9]
    report = verify_chain(batch=4)
    assert report.intact and report.checked == 9


def test_a_request_that_writes_audit_rows_leaves_them_chained(client, auth):
    admin = UserFactory(roles=["admin"])
    auth.login(admin)
    resp = client.post("/audit/chain/verify", data={"csrf_token": csrf(client, "/audit/chain")})
    assert resp.status_code == 302
    assert db.session.scalar(select(AuditLog).where(AuditLog.row_hash.is_(None))) is None
    assert db.session.scalar(select(AuditLog).where(AuditLog.entity == "audit_chain")) is not None


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("UPDATE audit_log SET reason = 'edited' WHERE id = :id", "altered"),
        ("UPDATE audit_log SET after = NULL WHERE id = :id", "altered"),
        ("UPDATE audit_log SET means = 'session' WHERE id = :id", "altered"),
        ("DELETE FROM audit_log WHERE id = :id", "missing"),
    ],
)
def test_verification_names_what_was_done_where(app, sql, kind):
    ids = _rows(4)
    seal_pending()
    with _Tampering() as t:
        t.run(sql, id=ids[1])
    report = verify_chain()
    assert not report.intact and report.kinds == {kind: 1}
    (finding,) = report.findings
    assert (finding.kind, finding.chain_seq) == (kind, 2)
    assert finding.row_id == (None if kind == "missing" else ids[1])
    assert report.checked == 3  # the rows before and after it still verify


def test_rewriting_a_rows_hash_without_the_key_is_caught(app):
    """Recomputing an edited row's hash by the old plain SHA-256 rule does not hide the edit."""
    from app.audit.chain import _COLUMNS, _content, row_hash

    ids = _rows(3)
    seal_pending()
    with _Tampering() as t:
        t.run("UPDATE audit_log SET reason = 'edited' WHERE id = :id", id=ids[0])
        row = db.session.execute(select(*_COLUMNS).where(AuditLog.id == ids[0])).one()
        t.run(
            "UPDATE audit_log SET row_hash = :h WHERE id = :id",
            h=row_hash(_content(row), 1, GENESIS),
            id=ids[0],
        )
    report = verify_chain()
    assert not report.intact and report.broken_id == ids[0]
    assert [(f.kind, f.row_id) for f in report.findings] == [("forged", ids[0])]


@pytest.mark.skipif(BACKEND != "postgresql", reason="the guard trigger is PostgreSQL's")
def test_postgresql_allows_sealing_once_and_nothing_else(app):
    (first,) = _rows(1)
    # As the owner (the app's role may not touch `reason` at all); the app's role may set the
    # seal columns, and the trigger still allows that only once.
    with pytest.raises(DBAPIError, match="append-only"), as_owner() as owner:
        owner.execute(
            text("UPDATE audit_log SET row_hash = 'x', reason = 'sneaky' WHERE id = :id"),
            {"id": first},
        )
    db.session.rollback()
    seal_pending()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(
            text("UPDATE audit_log SET row_hash = 'y' WHERE id = :id"), {"id": first}
        )
    db.session.rollback()


def test_cli_verify_reports_intact_then_broken(app, runner):
    ids = _rows(2)
    ok = runner.invoke(args=["audit", "verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    with _Tampering() as t:
        t.run("UPDATE audit_log SET actor_label = 'someone else' WHERE id = :id", id=ids[0])
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1 and "BROKEN: 1 altered" in bad.output
    assert f"altered at position 1, entry #{ids[0]}: its content was changed" in bad.output


@pytest.mark.parametrize("role", ["admin", "qa", "hr", "employee"])
def test_integrity_page_role_matrix(client, auth, role):
    auth.login(UserFactory(roles=[role]))
    assert client.get("/audit/chain").status_code == (200 if role in {"admin", "qa"} else 403)


def test_integrity_page_shows_the_last_verdict(client, auth):
    ids = _rows(2)
    auth.login(UserFactory(roles=["qa"]))
    token = csrf(client, "/audit/chain")
    client.post("/audit/chain/verify", data={"csrf_token": token})
    assert "intact" in client.get("/audit/chain").get_data(as_text=True)
    with _Tampering() as t:
        t.run("UPDATE audit_log SET entity_id = '99' WHERE id = :id", id=ids[1])
    page = client.post(
        "/audit/chain/verify", data={"csrf_token": token}, follow_redirects=True
    ).get_data(as_text=True)
    assert "1 findings: 1 altered" in page
    assert f'<a href="/audit/?entity_id={ids[1]}">#{ids[1]}</a>' in page


def test_record_history_shows_changes_in_order_with_reasons(client, auth):
    record_audit("create", "requirement", 5, after={"due_days": 30, "risk_level": "low"})
    record_audit(
        "update",
        "requirement",
        5,
        before={"due_days": 30, "risk_level": "low"},
        after={"due_days": 14, "risk_level": "low"},
        reason="Wrong due period entered",
    )
    record_audit("update", "requirement", 6, after={"due_days": 1})
    db.session.commit()
    auth.login(UserFactory(roles=["qa"]))
    page = client.get("/audit/history/requirement/5").get_data(as_text=True)
    assert page.index("create") < page.index("Wrong due period entered")
    assert "<dt>Due days</dt><dd><del>30</del> → <ins>14</ins></dd>" in page.replace("\n", "")
    assert "<dt>Risk level</dt>" not in page.split("Wrong due period")[1]
