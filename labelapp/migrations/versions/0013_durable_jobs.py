"""issue 16: durable jobs: a heartbeat (lease), attempts, cancellation, and at most one active job
per project and kind, enforced by a partial unique index (SQLite and PostgreSQL both have them).

Jobs queued or running before this upgrade belonged to the old in-process pool, which is gone:
they are marked failed with a message saying so (and so cannot break the new index).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import labelapp.models.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('queued', 'running')"


def upgrade() -> None:
    op.execute(
        sa.text(
            f"UPDATE jobs SET status = 'failed', error = 'stopped by the upgrade to durable jobs: "
            f"start it again' WHERE {ACTIVE}"
        )
    )
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column(
                "heartbeat_at", labelapp.models.base.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("worker", sa.String(length=255), nullable=True))
    op.create_index(
        "uq_jobs_active_project_kind",
        "jobs",
        ["project_id", "kind"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_jobs_active_project_kind", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("worker")
        batch.drop_column("cancel_requested")
        batch.drop_column("attempts")
        batch.drop_column("heartbeat_at")
