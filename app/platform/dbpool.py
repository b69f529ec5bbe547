"""PostgreSQL round trips per request: idle-only pings, and reads outside a transaction.

Ping a pooled PostgreSQL connection only when it has sat idle for a while:

SQLAlchemy's `pool_pre_ping` costs one round trip on every checkout, i.e. on every request.
A connection in steady use proves itself by its last statement; the ones that can have gone
stale (a database restart, a firewall dropping idle sockets) are the ones that sat unused.
Those are pinged on checkout and, if dead, replaced before the request sees them. A
connection that breaks while in use is still detected by SQLAlchemy, which then drops every
pooled connection of that process.

Serve GET/HEAD/OPTIONS requests on an autocommit connection. They never change state (the
route meta-tests hold every GET to that), and under READ COMMITTED each statement already
takes its own snapshot, so an explicit transaction adds nothing to a read but its BEGIN and
ROLLBACK: two of the four round trips of a cached catalog page. A read that does commit
(`seal_pending`, say) ends that mode: the session's next transaction is an ordinary one.
"""

from __future__ import annotations

import time

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError


def ping_after_idle(engine: Engine, seconds: float) -> None:
    """Ping connections idle for `seconds` or more at checkout; replace those that are dead."""

    @event.listens_for(engine, "checkin")
    def _idle_from(dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < seconds:
            return  # just made, or used moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool invalidates this connection and checks out a fresh one.
            raise DisconnectionError("pooled connection is dead") from exc


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def init_app(app: Flask) -> None:
    from app.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        return
    with app.app_context():
        ping_after_idle(db.engine, app.config["DB_PING_AFTER_IDLE_SECONDS"])

    @app.before_request
    def _reads_without_transaction() -> None:
        # Registered before every other hook, so no statement has run on a request's own
        # session yet; a session already in use (a request context pushed inside a running
        # app context) keeps its transaction.
        if request.method not in SAFE_METHODS or request.endpoint == "static":
            return
        if not db.session().in_transaction():
            db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
