"""Who may book a session: sites, departments, job roles and prerequisite courses.

One row per allowed value (training_session_restrictions); a session without rows is open to
everyone, as every existing session stays.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "training_session_restrictions",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=120), nullable=False),
        sa.CheckConstraint(
            "kind IN ('site', 'department', 'job_role', 'course')",
            name=op.f("ck_training_session_restrictions_restriction_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_training_session_restrictions_session_id_training_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "session_id", "kind", "value", name=op.f("pk_training_session_restrictions")
        ),
    )
    with op.batch_alter_table("training_session_restrictions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_training_session_restrictions_kind_value", ["kind", "value"], unique=False
        )


def downgrade():
    with op.batch_alter_table("training_session_restrictions", schema=None) as batch_op:
        batch_op.drop_index("ix_training_session_restrictions_kind_value")
    op.drop_table("training_session_restrictions")
