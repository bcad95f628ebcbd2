"""users.session_epoch: a counter in every session and remember-cookie of a user; logging out or
changing the password bumps it, which ends all of that user's sessions at once. jobs.traceback:
a crashed job's traceback, kept apart from the message every member may read

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("traceback", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("traceback")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_epoch")
