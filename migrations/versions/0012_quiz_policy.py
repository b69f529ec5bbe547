"""Extra quiz attempts a trainer grants a learner who has used every attempt.

The quiz policy itself (reveal rule, attempt limit, wait, pools) lives in training_modules.settings;
a quiz without an attempt limit there now allows 3 (read as the default, no data change).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "quiz_attempt_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrollment_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrollment_id"],
            ["training_enrollments.id"],
            name=op.f("fk_quiz_attempt_grants_enrollment_id_training_enrollments"),
        ),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["training_modules.id"],
            name=op.f("fk_quiz_attempt_grants_module_id_training_modules"),
        ),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["users.id"],
            name=op.f("fk_quiz_attempt_grants_granted_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempt_grants")),
    )
    op.create_index(
        "ix_quiz_attempt_grants_enrollment_module",
        "quiz_attempt_grants",
        ["enrollment_id", "module_id"],
    )


def downgrade():
    op.drop_index("ix_quiz_attempt_grants_enrollment_module", table_name="quiz_attempt_grants")
    op.drop_table("quiz_attempt_grants")
