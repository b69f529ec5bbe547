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


def test_seller_fields_move_to_profiles_and_back(tmp_path):
    """0009 carries every seller's shop and tier to seller_profiles (and its downgrade back),
    on a database of its own at the revision before."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import create_engine, text

    from app import create_app

    url = f"sqlite:///{tmp_path / 'migrate.db'}"
    # Not the suite's database, so not its owner's either (DATABASE_OWNER_URL).
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "DATABASE_OWNER_URL": None})
    engine = create_engine(url)
    with app.app_context():
        upgrade(revision="0008")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, email, name, active, locale, timezone, is_seller,"
                    " shop_name, seller_tier, created_at, must_change_password) VALUES"
                    " (1, 's@example.com', 'Sam', 1, 'en', 'UTC', 1, 'Sam Goods', 'gold',"
                    " '2026-01-02 00:00:00', 0),"
                    " (2, 'e@example.com', 'Eve', 1, 'en', 'UTC', 0, NULL, NULL,"
                    " '2026-01-02 00:00:00', 0)"
                )
            )
        upgrade(revision="0009")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT user_id, shop_name, tier FROM seller_profiles"))
            assert rows.all() == [(1, "Sam Goods", "gold")]
        downgrade(revision="0008")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, is_seller, shop_name, seller_tier FROM users"))
            assert rows.all() == [(1, 1, "Sam Goods", "gold"), (2, 0, None, None)]
    engine.dispose()
