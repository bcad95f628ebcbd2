"""drop the items content-hash index: nothing looks items up by hash (ids do that), and its
random keys made every large import slower

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_index("ix_items_project_id_content_hash")


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_items_project_id_content_hash", ["project_id", "content_hash"], unique=False
        )
