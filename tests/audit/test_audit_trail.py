"""The audit trail page, its CSV export, and the append-only guarantee."""

import csv
import io

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.audit import trail as audit_service
from app.extensions import db
from app.platform.audit import record_audit
from app.platform.csv_export import neutralise
from tests.conftest import BACKEND, as_owner
from tests.people.factories import UserFactory

ROLES = ["admin", "hr", "qa", "trainer", "manager", "employee", "seller"]
ALLOWED = {"admin", "qa"}


def _audit(action="update", entity="course", entity_id=1, **kw):
    row = record_audit(action, entity, entity_id, **kw)
    db.session.commit()
    return row


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
def test_role_matrix(client, auth, role, path):
    auth.login(UserFactory(roles=[role]))
    assert client.get(path).status_code == (200 if role in ALLOWED else 403)


@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
def test_anonymous_is_sent_to_login(client, path):
    resp = client.get(path)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_page_lists_and_filters_entries(client, auth):
    qa = UserFactory(roles=["qa"], name="Quinn QA")
    _audit("create", "course", 7, after={"title": "GMP basics"}, actor=qa)
    _audit("delete", "module", 3, before={"title": "Old module"}, reason="duplicate")
    auth.login(qa)
    page = client.get("/audit/").get_data(as_text=True)
    assert "course #7" in page and "module #3" in page and "duplicate" in page
    filtered = client.get("/audit/?entity=module").get_data(as_text=True)
    assert "module #3" in filtered and "course #7" not in filtered
    by_actor = client.get("/audit/?actor=quinn").get_data(as_text=True)
    assert "course #7" in by_actor and "module #3" not in by_actor


def _changes_cell(page: str, anchor: str) -> str:
    """The labelled changes of the row whose record link is `anchor` ("course/5")."""
    row = page.split(f'href="/audit/history/{anchor}"', 1)[1].split("</tr>", 1)[0]
    return row.split('<dl class="audit-changes">', 1)[1].split("</dl>", 1)[0]


def test_each_entry_shows_what_changed_field_by_field(client, auth):
    _audit(
        "update",
        "course",
        5,
        before={"title": "GMP basics", "status": "draft", "hours": 2},
        after={"title": "GMP basics", "status": "published", "hours": 2},
    )
    _audit("create", "course", 6, after={"title": "<b>Safety</b>", "tags": ["a", "b"]})
    _audit("delete", "module", 9, before={"title": "Old module"})
    auth.login(UserFactory(roles=["qa"]))
    page = client.get("/audit/").get_data(as_text=True)

    update = _changes_cell(page, "course/5")
    assert "<del>draft</del> → <ins>published</ins>" in update
    assert "title" not in update and "hours" not in update  # unchanged fields are left out
    created = _changes_cell(page, "course/6")
    assert "<ins>&lt;b&gt;Safety&lt;/b&gt;</ins>" in created and "<del>" not in created
    assert "<dt>Tags</dt><dd><ins>a, b</ins></dd>" in created
    deleted = _changes_cell(page, "module/9")
    assert "<del>Old module</del>" in deleted and "<ins>" not in deleted


def test_a_long_trail_is_counted_only_so_far(client, auth, monkeypatch):
    monkeypatch.setattr(audit_service, "AUDIT_COUNT_CAP", 3)
    for n in range(7):
        _audit("update", "course", n)
    flt = audit_service.AuditFilter()
    first = audit_service.list_audit_entries(flt, 1, 2)
    assert (first.total, first.more, first.pages) == (3, True, 2)
    assert [e.row.entity_id for e in first.items] == ["6", "5"]  # newest first
    third = audit_service.list_audit_entries(flt, 3, 2)  # counted as far as this page
    assert [e.row.entity_id for e in third.items] == ["2", "1"] and third.more
    last = audit_service.list_audit_entries(flt, 4, 2)
    assert (last.total, last.more, [e.row.entity_id for e in last.items]) == (7, False, ["0"])
    assert audit_service.list_audit_entries(flt, 1, 10).total == 7  # one page: exact
    nothing = audit_service.list_audit_entries(audit_service.AuditFilter(actor="nobody"), 1, 2)
    assert (nothing.total, nothing.more, nothing.items) == (0, False, [])

    auth.login(UserFactory(roles=["qa"]))
    page = client.get("/audit/?per_page=2").get_data(as_text=True)
    assert "More than 3 entries" in page and "Page 1 of 2+" in page and 'rel="next"' in page
    page = client.get("/audit/?per_page=2&page=4").get_data(as_text=True)
    assert "7 entries" in page and 'rel="next"' not in page


def test_the_entity_menu_lists_each_kind_once_in_order(client, auth):
    for entity in ("waiver", "course", "module", "course", "waiver"):
        _audit("update", entity, 1)
    assert audit_service.audit_entities() == ["course", "module", "waiver"]


def test_htmx_filter_returns_only_the_rows(client, auth):
    auth.login(UserFactory(roles=["admin"]))
    _audit()
    resp = client.get("/audit/?entity=course", headers={"HX-Request": "true"})
    body = resp.get_data(as_text=True)
    assert "<html" not in body and "course #1" in body
    assert "HX-Request" in resp.headers.get("Vary", "")


def test_bad_filter_values_do_not_fail(client, auth):
    auth.login(UserFactory(roles=["admin"]))
    resp = client.get("/audit/?date_from=notadate&page=-4&per_page=abc")
    assert resp.status_code == 200


def test_csv_export_neutralises_formulas(client, auth):
    auth.login(UserFactory(roles=["qa"]))
    _audit("update", "course", 1, reason='=HYPERLINK("http://evil")')
    body = client.get("/audit/export.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["id", "at_utc", "actor"]
    reason = rows[1][rows[0].index("reason")]
    assert reason.startswith("'=")


@pytest.mark.parametrize("cell", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_dangerous_prefixes(cell):
    assert neutralise(cell) == "'" + cell


def test_plain_cells_are_untouched():
    assert neutralise("GMP basics") == "GMP basics"
    assert neutralise(None) == ""


def test_request_id_and_ip_are_recorded(client, auth, app):
    from app.platform.audit import AuditLog

    auth.login(UserFactory(roles=["admin"]))
    with app.test_request_context(
        "/", headers={"X-Request-ID": "req-42"}, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    ):
        app.preprocess_request()
        record_audit("create", "thing", 1)
        db.session.commit()
    row = db.session.query(AuditLog).one()
    assert row.request_id == "req-42" and row.ip == "10.1.2.3"


@pytest.mark.skipif(BACKEND != "postgresql", reason="the trigger is PostgreSQL's")
@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET reason = 'x'", "DELETE FROM audit_log"]
)
def test_postgresql_refuses_to_change_audit_rows(app, statement):
    _audit()
    # As the owner: the app's role may not even try (tests/audit/test_app_role.py).
    with pytest.raises(DBAPIError, match="append-only"), as_owner() as owner:
        owner.execute(text(statement))
    db.session.rollback()
    assert db.session.execute(text("SELECT count(*) FROM audit_log")).scalar() == 1


def test_history_restore_gets_the_full_page(client, auth):
    """The Back button after an htmx search must not show a bare fragment."""
    auth.login(UserFactory(roles=["admin"]))
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}
    body = client.get("/audit/?entity=course", headers=headers).get_data(as_text=True)
    assert "<html" in body and "Audit trail" in body
