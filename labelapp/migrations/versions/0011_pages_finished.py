"""issue 18: labeling functions can be deleted with their history kept
(labeling_functions.deleted_at)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import labelapp.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("labeling_functions") as batch:
        batch.add_column(
            sa.Column("deleted_at", labelapp.models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("labeling_functions") as batch:
        batch.drop_column("deleted_at")
