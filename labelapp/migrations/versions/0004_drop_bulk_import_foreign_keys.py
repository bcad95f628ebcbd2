"""drop two foreign keys that made every bulk import pay a trigger call per row:
items.import_id -> imports and queue_entries.item_id -> items (see the models for why)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_constraint("fk_items_import_id_imports", type_="foreignkey")
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.drop_constraint("fk_queue_entries_item_id_items", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("queue_entries", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_queue_entries_item_id_items", "items", ["item_id"], ["id"], ondelete="CASCADE"
        )
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_items_import_id_imports", "imports", ["import_id"], ["id"], ondelete="SET NULL"
        )
