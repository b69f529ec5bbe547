"""Document types with their segregation of duties; an index for the audit trail without
system-generated entries.

Every existing document becomes an SOP (the strictest default: author, reviewer and approver
of a version are three different people). No rule rows: a type without one keeps its default
until QA sets it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

PERSON_MADE = "actor_id IS NOT NULL AND request_id IS NOT NULL"


def upgrade():
    with op.batch_alter_table("controlled_documents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("document_type", sa.String(length=30), nullable=False, server_default="sop")
        )
    op.create_table(
        "document_type_rules",
        sa.Column("document_type", sa.String(length=30), nullable=False),
        sa.Column("separate_author_reviewer", sa.Boolean(), nullable=False),
        sa.Column("separate_author_approver", sa.Boolean(), nullable=False),
        sa.Column("separate_reviewer_approver", sa.Boolean(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_document_type_rules_updated_by_id_users"),
        ),
        sa.PrimaryKeyConstraint("document_type", name=op.f("pk_document_type_rules")),
    )
    op.create_index(
        "ix_audit_log_person_made",
        "audit_log",
        ["id"],
        unique=False,
        postgresql_where=sa.text(PERSON_MADE),
        sqlite_where=sa.text(PERSON_MADE),
    )


def downgrade():
    op.drop_index(
        "ix_audit_log_person_made",
        table_name="audit_log",
        postgresql_where=sa.text(PERSON_MADE),
        sqlite_where=sa.text(PERSON_MADE),
    )
    op.drop_table("document_type_rules")
    with op.batch_alter_table("controlled_documents", schema=None) as batch_op:
        batch_op.drop_column("document_type")
