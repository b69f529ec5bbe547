"""SQL that means the same on PostgreSQL and SQLite: date arithmetic, advisory locks, upserts.

Compliance status is derived set-based, so expiry dates are computed by the database. The date
constructs compile to each dialect's own functions and agree with the Python rules of
recertification (months are added with the day clamped to the month's end).
"""

from __future__ import annotations

from contextlib import contextmanager, suppress
from datetime import date

from sqlalchemy import Date, Integer, literal, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from app.platform.db import JSONType, db

# Stands for "never expires" inside MIN/MAX aggregates; never shown to anyone.
FOREVER = date(9999, 12, 31)


def forever():
    return literal(FOREVER, type_=Date)


class add_days(FunctionElement):
    """date + n days (n may be negative)."""

    type = Date()
    inherit_cache = True


@compiles(add_days, "postgresql")
def _add_days_pg(element, compiler, **kw):
    day, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST({day} AS date) + CAST({days} AS integer))"


@compiles(add_days)
def _add_days_sqlite(element, compiler, **kw):
    day, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"date({day}, printf('%+d days', {days}))"


class add_months(FunctionElement):
    """date + n calendar months, the day clamped to the target month's length."""

    type = Date()
    inherit_cache = True


@compiles(add_months, "postgresql")
def _add_months_pg(element, compiler, **kw):
    day, months = list(element.clauses)
    d, m = compiler.process(day, **kw), compiler.process(months, **kw)
    return f"CAST(CAST({d} AS date) + make_interval(months => CAST({m} AS integer)) AS date)"


@compiles(add_months)
def _add_months_sqlite(element, compiler, **kw):
    day, months = list(element.clauses)
    d, m = compiler.process(day, **kw), compiler.process(months, **kw)
    same_day = (
        f"date({d}, 'start of month', printf('%+d months', {m}), "
        f"printf('%+d days', CAST(strftime('%d', {d}) AS integer) - 1))"
    )
    month_end = f"date({d}, 'start of month', printf('%+d months', ({m}) + 1), '-1 day')"
    return f"min({same_day}, {month_end})"


class month_index(FunctionElement):
    """year * 12 + month - 1: months as one integer, so calendar windows are integer maths."""

    type = Integer()
    inherit_cache = True


@compiles(month_index, "postgresql")
def _month_index_pg(element, compiler, **kw):
    (day,) = list(element.clauses)
    d = compiler.process(day, **kw)
    return (
        f"(CAST(EXTRACT(YEAR FROM CAST({d} AS date)) AS integer) * 12"
        f" + CAST(EXTRACT(MONTH FROM CAST({d} AS date)) AS integer) - 1)"
    )


@compiles(month_index)
def _month_index_sqlite(element, compiler, **kw):
    (day,) = list(element.clauses)
    d = compiler.process(day, **kw)
    return f"(CAST(strftime('%Y', {d}) AS integer) * 12 + CAST(strftime('%m', {d}) AS integer) - 1)"


class month_start(FunctionElement):
    """The first day of the month with the given month_index."""

    type = Date()
    inherit_cache = True


@compiles(month_start, "postgresql")
def _month_start_pg(element, compiler, **kw):
    (index,) = list(element.clauses)
    i = compiler.process(index, **kw)
    return f"make_date(({i}) / 12, mod({i}, 12) + 1, 1)"


@compiles(month_start)
def _month_start_sqlite(element, compiler, **kw):
    (index,) = list(element.clauses)
    i = compiler.process(index, **kw)
    return f"printf('%04d-%02d-01', ({i}) / 12, ({i}) % 12 + 1)"


class utc_date(FunctionElement):
    """The UTC calendar date of a stored timestamp."""

    type = Date()
    inherit_cache = True


@compiles(utc_date, "postgresql")
def _utc_date_pg(element, compiler, **kw):
    (moment,) = list(element.clauses)
    return f"CAST(({compiler.process(moment, **kw)}) AT TIME ZONE 'UTC' AS date)"


@compiles(utc_date)
def _utc_date_sqlite(element, compiler, **kw):
    (moment,) = list(element.clauses)
    return f"date({compiler.process(moment, **kw)})"


class json_object(FunctionElement):
    """A JSON object from alternating key, value arguments (for set-based audit rows)."""

    type = JSONType
    inherit_cache = True


@compiles(json_object, "postgresql")
def _json_object_pg(element, compiler, **kw):
    return f"jsonb_build_object({compiler.process(element.clauses, **kw)})"


@compiles(json_object)
def _json_object_sqlite(element, compiler, **kw):
    return f"json_object({compiler.process(element.clauses, **kw)})"


def advisory_xact_lock(key: int, *, wait: bool = True) -> bool:
    """Take PostgreSQL's transaction-scoped advisory lock `key` (held until commit or rollback);
    with wait=False give up at once when another transaction holds it. SQLite has one writer
    at a time anyway, so there it is always granted."""
    if db.engine.dialect.name != "postgresql":
        return True
    if wait:
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        return True
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}))


def upsert(model):
    """INSERT for the session's database, with ON CONFLICT (upserts) and RETURNING on both
    PostgreSQL and SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


@contextmanager
def pg_setting(name: str, value: str):
    """Run the block with a PostgreSQL setting changed, then put it back (no-op elsewhere).

    A plain SET, not SET LOCAL: page reads run outside a transaction (app.platform.dbpool). If the
    block fails inside a transaction, that transaction's rollback undoes the SET instead.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    db.session.execute(text(f"SET {name} = '{value}'"))
    try:
        yield
    finally:
        with suppress(DBAPIError):  # an aborted transaction: its rollback resets the setting
            db.session.execute(text(f"RESET {name}"))
