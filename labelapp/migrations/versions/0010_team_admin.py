"""issue 17: archived projects, sme-managed membership, annotator columns, retired labels, label
history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from labelapp.models.base import JSONType, UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("archived_at", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column(
                "sme_manages_members", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch.add_column(sa.Column("annotator_columns", JSONType, nullable=True))
    with op.batch_alter_table("labels") as batch:
        batch.add_column(
            sa.Column("retired", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "label_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("old_name", sa.String(length=80), nullable=True),
        sa.Column("new_name", sa.String(length=80), nullable=True),
        sa.Column("answers_changed", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_label_changes_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_label_changes_user_id_users", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_label_changes"),
    )
    op.create_index("ix_label_changes_project_id", "label_changes", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_label_changes_project_id", table_name="label_changes")
    op.drop_table("label_changes")
    with op.batch_alter_table("labels") as batch:
        batch.drop_column("retired")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("annotator_columns")
        batch.drop_column("sme_manages_members")
        batch.drop_column("archived_at")
