"""A manual certificate back-dated beyond the window waits for QA's e-signed approval: its
approval status, who decided it, when, and the note of a rejection (issue 16).

Existing certificates need no approval (NULL): they stay as they were.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("training_certifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approval_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("decision_note", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_training_certifications_decided_by_id_users"),
            "users",
            ["decided_by_id"],
            ["id"],
        )
        batch_op.create_index(
            "ix_training_certifications_approval_status", ["approval_status"], unique=False
        )


def downgrade():
    with op.batch_alter_table("training_certifications", schema=None) as batch_op:
        batch_op.drop_index("ix_training_certifications_approval_status")
        batch_op.drop_constraint(
            batch_op.f("fk_training_certifications_decided_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("decision_note")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by_id")
        batch_op.drop_column("approval_status")
