"""The app's database role (app.audit.app_role): it reads and writes every table but may only
read and append to the trail, while another role owns the schema. The suite itself runs as that
role under .ci/run, which shows the whole app works with it."""

import pytest
from sqlalchemy import func, make_url, select, text
from sqlalchemy.exc import ProgrammingError

from app.audit.chain import seal_pending, verify_chain
from app.audit.models import ESignature
from app.audit.signatures import sign
from app.extensions import db
from app.platform.audit import AuditLog, record_audit
from tests.conftest import BACKEND, SEPARATE_OWNER, as_owner
from tests.people.factories import UserFactory

two_roles = pytest.mark.skipif(
    not SEPARATE_OWNER,
    reason="app and owner roles are PostgreSQL's: set DATABASE_OWNER_URL too, as .ci/run does",
)

CHANGES = [
    "UPDATE audit_log SET reason = 'rewritten'",
    "UPDATE audit_log SET before = NULL, after = NULL",
    "DELETE FROM audit_log",
    "TRUNCATE audit_log",
    "TRUNCATE audit_log, e_signatures CASCADE",
    "UPDATE e_signatures SET printed_name = 'someone else'",
    "UPDATE e_signatures SET content_hash = 'x'",
    "DELETE FROM e_signatures",
    "TRUNCATE e_signatures",
]


def _trail() -> tuple[int, int]:
    """An audit row and a signature (with its own audit row), written as the app's role."""
    record_audit("update", "course", 1, before={"title": "Old"}, after={"title": "New"})
    sign(
        signer=UserFactory(),
        password="password",
        meaning="approved",
        entity="course",
        entity_id=1,
        statement="I approve course 1.",
        content={"title": "New"},
    )
    db.session.commit()
    return _counts()


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(AuditLog)),
        db.session.scalar(select(func.count()).select_from(ESignature)),
    )


def _refused(sql: str) -> None:
    """`sql` as the app's role fails for want of privilege, not because a trigger said no."""
    with pytest.raises(ProgrammingError) as caught:
        db.session.execute(text(sql))
    db.session.rollback()
    assert caught.value.orig.sqlstate == "42501", caught.value  # insufficient_privilege


def _app_role() -> str:
    return make_url(db.engine.url).username


@two_roles
def test_the_app_runs_as_a_role_that_cannot_act_as_the_owner(app):
    me, owner, member, superuser = db.session.execute(
        text(
            "SELECT current_user, tableowner, pg_has_role(current_user, tableowner, 'MEMBER'),"
            " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
            " FROM pg_tables WHERE tablename = 'audit_log'"
        )
    ).one()
    assert me == _app_role() and owner != me
    assert not member and not superuser


@two_roles
@pytest.mark.parametrize("sql", CHANGES)
def test_the_app_role_may_not_change_or_empty_the_trail(app, sql):
    before = _trail()
    _refused(sql)
    assert _counts() == before


@two_roles
@pytest.mark.parametrize("sql", CHANGES)
def test_with_the_triggers_off_the_app_role_still_may_not(app, sql):
    """The triggers are the owner's to switch off; privileges hold without them."""
    before = _trail()
    with as_owner() as owner:
        owner.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        owner.execute(text("ALTER TABLE e_signatures DISABLE TRIGGER USER"))
    try:
        _refused(sql)
    finally:
        with as_owner() as owner:
            owner.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
            owner.execute(text("ALTER TABLE e_signatures ENABLE TRIGGER USER"))
    assert _counts() == before


@two_roles
@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change",
        "ALTER TABLE e_signatures DISABLE TRIGGER USER",
        "SET session_replication_role = replica",  # would skip every trigger
        "DROP TABLE e_signatures",
        "ALTER TABLE audit_log OWNER TO CURRENT_USER",
    ],
)
def test_the_app_role_cannot_switch_the_guards_off(app, sql):
    _refused(sql)


@two_roles
def test_the_app_role_cannot_become_the_owner(app):
    owner = db.session.scalar(
        text("SELECT tableowner FROM pg_tables WHERE tablename = 'audit_log'")
    )
    _refused(f'SET ROLE "{owner}"')


@two_roles
def test_the_app_role_appends_and_the_sealer_seals(app):
    audited, signed = _trail()
    assert (audited, signed) == (2, 1)  # the change and the signature's own row
    assert seal_pending() == 2
    assert verify_chain().intact and verify_chain().checked == 2
    # Only the seal columns, and only through the trigger's once-only rule.
    record_audit("update", "course", 2, after={"title": "Later"})
    db.session.commit()
    _refused("UPDATE audit_log SET reason = 'x', row_hash = 'y' WHERE row_hash IS NULL")


@two_roles
def test_tables_a_later_migration_creates_are_the_apps_at_once(app):
    with as_owner() as owner:
        owner.execute(text("CREATE TABLE later_table (id serial PRIMARY KEY, note text)"))
    try:
        db.session.execute(text("INSERT INTO later_table (note) VALUES ('a')"))
        db.session.execute(text("UPDATE later_table SET note = 'b'"))
        assert db.session.scalar(text("SELECT note FROM later_table")) == "b"
        db.session.execute(text("DELETE FROM later_table"))
        db.session.commit()
    finally:
        db.session.rollback()
        with as_owner() as owner:
            owner.execute(text("DROP TABLE later_table"))


def _may(privilege: str, table: str, column: str | None = None) -> bool:
    on = f"'{table}', '{column}'" if column else f"'{table}'"
    kind = "column" if column else "table"
    return db.session.scalar(
        text(f"SELECT has_{kind}_privilege(:role, {on}, :privilege)"),
        {"role": _app_role(), "privilege": privilege},
    )


@two_roles
def test_the_grant_command_sets_exactly_the_apps_privileges_again(app, runner):
    with as_owner() as owner:  # what a hurried DBA might do
        owner.execute(text(f'GRANT ALL ON audit_log, e_signatures TO "{_app_role()}"'))
    assert _may("DELETE", "audit_log")
    for _ in range(2):  # idempotent
        done = runner.invoke(args=["audit", "grant-app-role"])
        assert done.exit_code == 0, done.output
        assert f"{_app_role()} may read and write" in done.output
    db.session.rollback()
    for table in ("audit_log", "e_signatures"):
        assert _may("SELECT", table) and _may("INSERT", table)
        for privilege in ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES"):
            assert not _may(privilege, table), (privilege, table)
    assert [
        c
        for c in ("chain_seq", "prev_hash", "row_hash", "reason", "after", "id")
        if _may("UPDATE", "audit_log", c)
    ] == ["chain_seq", "prev_hash", "row_hash"]
    for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
        assert _may(privilege, "users") and _may(privilege, "training_enrollments")
    assert not _may("TRUNCATE", "users")


@two_roles
def test_the_grant_command_refuses_a_role_that_can_act_as_the_owner(app, runner):
    owner = make_url(app.config["DATABASE_OWNER_URL"]).username
    done = runner.invoke(args=["audit", "grant-app-role", owner])
    assert done.exit_code == 1 and "it is the owner" in done.output
    done = runner.invoke(args=["audit", "grant-app-role", "no_such_role_here"])
    assert done.exit_code == 1 and "There is no database role" in done.output


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite has no roles")
def test_on_sqlite_the_grant_command_says_there_is_nothing_to_grant(app, runner):
    done = runner.invoke(args=["audit", "grant-app-role", "cadre_app"])
    assert done.exit_code == 1 and "PostgreSQL feature" in done.output


def test_migrations_never_run_on_another_database_than_the_apps(app):
    """A DATABASE_OWNER_URL left over from another setup must not migrate some other database."""
    from flask_migrate import upgrade

    from app import create_app
    from app.platform.db import owner_engine

    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "DATABASE_OWNER_URL": "postgresql+psycopg://owner@127.0.0.1:5432/another_db",
        }
    )
    with other.app_context():
        with pytest.raises(RuntimeError, match="names another database than the app's"):
            owner_engine()
        with pytest.raises(SystemExit):  # `flask db upgrade` says the above and exits 1
            upgrade()
