"""The app's own PostgreSQL role: it reads and writes every ordinary table, but may only read
and append to the trail, while another role owns the schema.

An owner (or a superuser) can switch off the append-only triggers; the app's role cannot, so
stolen app credentials, or a bug, cannot rewrite or empty the trail: UPDATE, DELETE and TRUNCATE
on it are refused as privileges, whether or not the triggers are on. The one UPDATE the app
makes there is the sealer's, and only on the columns it sets (SEAL_COLUMNS).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from app.platform.errors import Invalid

# Append-only tables: the app role may SELECT and INSERT, nothing else.
TRAIL_TABLES = ("audit_log", "e_signatures")
# The audit_log columns the sealer sets once per row (app.audit.chain._write_seals), the only
# UPDATE the app role may make on the trail. A column the sealer starts setting goes here.
SEAL_COLUMNS = ("chain_seq", "prev_hash", "row_hash")
# What the app role may do on every other table and on the sequences behind their ids. No
# TRUNCATE: the app never truncates.
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT"


@dataclass
class Grant:
    role: str
    owner: str
    schema: str
    statements: list[str]


def grant_app_role(connection: Connection, role: str) -> Grant:
    """Set `role`'s privileges to exactly the app's, on every table and sequence now and (as
    default privileges) on those later migrations create. Idempotent; run it as the schema's
    owner after each `flask db upgrade`, inside the caller's transaction.

    Raises Invalid when not on PostgreSQL, before the schema exists, when the connection may
    not grant for the owner, or when `role` would be able to act as the owner (it is the owner,
    a superuser, may create roles, or is a member of the owner role)."""
    if connection.dialect.name != "postgresql":
        raise Invalid("An app role is a PostgreSQL feature; this database has one user.")
    found = connection.execute(
        text(
            "SELECT n.nspname, pg_get_userbyid(c.relowner),"
            " pg_has_role(current_user, c.relowner, 'USAGE')"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.oid = to_regclass('audit_log')"
        )
    ).first()
    if found is None:
        raise Invalid("There is no audit_log table yet: run `flask db upgrade` first.")
    schema, owner, may_grant = found
    if not may_grant:
        raise Invalid(f"Connect as the schema's owner ({owner}) to grant, e.g. DATABASE_OWNER_URL.")
    why = _acts_as_owner(connection, role, owner)
    if why:
        raise Invalid(
            f"{role!r} can act as the schema's owner ({why}), so no privilege would keep it"
            " from the trail; give the app a plain LOGIN role of its own."
        )
    statements = _statements(connection, role=role, owner=owner, schema=schema)
    for statement in statements:
        connection.execute(text(statement))
    return Grant(role=role, owner=owner, schema=schema, statements=statements)


def _acts_as_owner(connection: Connection, role: str, owner: str) -> str | None:
    """Why `role` could do what the owner does (None: it cannot). Raises Invalid if no such role."""
    who = connection.execute(
        text(
            "SELECT rolsuper, rolcreaterole, pg_has_role(oid, :owner, 'MEMBER') FROM pg_roles"
            " WHERE rolname = :role"
        ),
        {"role": role, "owner": owner},
    ).first()
    if who is None:
        raise Invalid(f"There is no database role {role!r}: CREATE ROLE {role} LOGIN first.")
    superuser, createrole, member = who
    if superuser:
        return "it is a superuser"  # privileges do not apply to it
    if createrole:
        return "it may create roles"  # so it may make itself a member of the owner role
    if role == owner:
        return "it is the owner"
    if member:
        return f"it is a member of {owner}"
    return None


def _statements(connection: Connection, *, role: str, owner: str, schema: str) -> list[str]:
    q = connection.dialect.identifier_preparer.quote
    r, o, s = q(role), q(owner), q(schema)
    trail = ", ".join(f"{s}.{q(t)}" for t in TRAIL_TABLES)
    seal = ", ".join(q(c) for c in SEAL_COLUMNS)
    defaults = f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s}"
    return [
        f"GRANT USAGE ON SCHEMA {s} TO {r}",
        f"REVOKE CREATE ON SCHEMA {s} FROM {r}",
        # Start from nothing, so a privilege granted by hand or by an older release goes too
        # (a table-level REVOKE also takes back the column-level grants).
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {r}",
        f"GRANT {TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {s} TO {r}",
        f"GRANT {SEQUENCE_PRIVILEGES} ON ALL SEQUENCES IN SCHEMA {s} TO {r}",
        f"REVOKE ALL ON {trail} FROM {r}",
        f"GRANT SELECT, INSERT ON {trail} TO {r}",
        f"GRANT UPDATE ({seal}) ON {s}.{q('audit_log')} TO {r}",
        # Tables and sequences a later migration creates are the app's at once; a new trail
        # table, or a new seal column, needs this command again (it runs after every upgrade).
        f"{defaults} GRANT {TABLE_PRIVILEGES} ON TABLES TO {r}",
        f"{defaults} GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {r}",
    ]
