"""Audit rows say by what means a change was made and on whose behalf (issue 16).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("means", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("on_behalf_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_log_on_behalf_of_id_users"), "users", ["on_behalf_of_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_audit_log_on_behalf_of_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("on_behalf_of_id")
        batch_op.drop_column("means")
