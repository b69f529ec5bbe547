"""A department's people in name order: index users (department_id, name, id).

The training matrix and the people lists filter by department and sort by name; without it
PostgreSQL walks ix_users_name over everyone and filters (5 ms of a 441-person page at 10,000
people).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(
            "ix_users_department_name", ["department_id", "name", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_department_name")
