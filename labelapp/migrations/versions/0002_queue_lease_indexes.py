"""indexes for the queue: an annotator's own lease, their recent annotations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_queue_entries_leased_by_id",
            ["leased_by_id"],
            unique=False,
            sqlite_where=sa.text("leased_by_id IS NOT NULL"),
            postgresql_where=sa.text("leased_by_id IS NOT NULL"),
        )
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_annotations_user_id_project_id_id", ["user_id", "project_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("annotations", schema=None) as batch_op:
        batch_op.drop_index("ix_annotations_user_id_project_id_id")
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_queue_entries_leased_by_id",
            sqlite_where=sa.text("leased_by_id IS NOT NULL"),
            postgresql_where=sa.text("leased_by_id IS NOT NULL"),
        )
