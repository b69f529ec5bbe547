"""Seller fields leave users for seller_profiles (one row per marketplace seller).

The marketplace domain keys its gates, KPIs and privileges on the profile; users keeps what
every person has. Existing sellers keep their shop name and tier.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "seller_profiles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("shop_name", sa.String(length=200), nullable=True),
        sa.Column("tier", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_seller_profiles_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_seller_profiles")),
    )
    op.execute(
        "INSERT INTO seller_profiles (user_id, shop_name, tier, created_at)"
        " SELECT id, shop_name, seller_tier, created_at FROM users WHERE is_seller"
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("seller_tier")
        batch_op.drop_column("shop_name")
        batch_op.drop_column("is_seller")


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_seller", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("shop_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("seller_tier", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE users SET is_seller = true,"
        " shop_name = (SELECT shop_name FROM seller_profiles p WHERE p.user_id = users.id),"
        " seller_tier = (SELECT tier FROM seller_profiles p WHERE p.user_id = users.id)"
        " WHERE id IN (SELECT user_id FROM seller_profiles)"
    )
    op.drop_table("seller_profiles")
