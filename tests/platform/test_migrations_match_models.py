"""The migrations build exactly the schema the models declare: a model change without its
migration fails here, not in production."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData

from app.extensions import db


def _differences(metadata: MetaData) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_the_migrated_database_matches_the_models(app):
    assert _differences(db.metadata) == []


def test_a_column_without_its_migration_is_found(app):
    changed = MetaData()
    for table in db.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["departments"].append_column(Column("forgotten", Integer))
    [(kind, _schema, table, column)] = _differences(changed)
    assert (kind, table, column.name) == ("add_column", "departments", "forgotten")
