"""issue 17: a member's role in each project; what a label rename or merge rewrote

Existing memberships get their account's role (sme for sme and admin accounts), so nobody's
access changes on upgrade. The label-set history records, per store, how many rows a rename or
merge rewrote (``label_changes.rewritten``).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 07:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from labelapp.models.base import JSONType

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(
            sa.Column("role", sa.String(16), nullable=False, server_default="annotator")
        )
    op.execute(
        "UPDATE memberships SET role = 'sme' WHERE user_id IN "
        "(SELECT id FROM users WHERE role IN ('sme', 'admin'))"
    )
    with op.batch_alter_table("label_changes") as batch:
        batch.add_column(sa.Column("rewritten", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("label_changes") as batch:
        batch.drop_column("rewritten")
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("role")
