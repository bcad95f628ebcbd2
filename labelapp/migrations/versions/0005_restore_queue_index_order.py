"""restore "priority DESC" in ix_queue_entries_next: SQLite's batch rebuild of queue_entries in
0004 recreated the index with an ascending priority, which made every claim sort the queue

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _create() -> None:
    op.create_index(
        "ix_queue_entries_next",
        "queue_entries",
        ["project_id", sa.literal_column("priority DESC"), "position"],
        unique=False,
        sqlite_where=sa.text("remaining > 0"),
        postgresql_where=sa.text("remaining > 0"),
    )


def upgrade() -> None:
    op.drop_index("ix_queue_entries_next", table_name="queue_entries")
    _create()


def downgrade() -> None:
    pass  # the order 0004 left on SQLite was a defect; keeping the right one is harmless
