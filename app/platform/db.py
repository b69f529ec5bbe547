"""The database every model stands on: `db`, its session class, and shared column types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from flask import current_app
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    make_url,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.pool import NullPool


class UTCDateTime(TypeDecorator):
    """Store timezone-aware UTC datetimes; SQLite hands back naive ones, so tag them UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


# JSONB on PostgreSQL (indexable), JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")


# What runs once a transaction has committed (with the session usable again), and what runs
# when one is rolled back or closed: app.platform.events delivers or forgets its events here.
after_commit: list[Callable[[FlaskSession], None]] = []
after_rollback: list[Callable[[FlaskSession], None]] = []


class Session(FlaskSession):
    """db.session: runs the after_commit hooks once a commit has finished, the after_rollback
    hooks after a rollback or close."""

    def commit(self) -> None:
        super().commit()
        for hook in after_commit:
            hook(self)

    def rollback(self) -> None:
        super().rollback()
        for hook in after_rollback:
            hook(self)

    def close(self) -> None:
        super().close()
        for hook in after_rollback:
            hook(self)


# Stable constraint names so Alembic migrations are deterministic on SQLite and PostgreSQL.
naming = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming), session_options={"class_": Session})


def owner_engine() -> Engine:
    """The engine for schema work (migrations, grants): DATABASE_OWNER_URL's role when set,
    since the app's own role may not change the schema; else the app's engine. Unpooled: it
    serves a command, not requests.

    Raises RuntimeError when DATABASE_OWNER_URL names another database (backend or name) than
    the app's: schema work meant for one database must never land on another."""
    url = current_app.config.get("DATABASE_OWNER_URL")
    if not url:
        return db.engine
    ours, theirs = make_url(url), db.engine.url
    # Backend and database name: hosts may be spelt differently (localhost, 127.0.0.1, a socket).
    if (ours.get_backend_name(), ours.database) != (theirs.get_backend_name(), theirs.database):
        raise RuntimeError(
            f"DATABASE_OWNER_URL ({ours.render_as_string()}) names another database than the"
            f" app's ({theirs.render_as_string()}); it names the app's database, as its owner."
        )
    engines = current_app.extensions.setdefault("cadre_owner_engines", {})
    if url not in engines:
        engines[url] = create_engine(url, poolclass=NullPool)
    return engines[url]
