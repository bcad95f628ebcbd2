"""label_issue_runs and label_issues: scans for wrong labels (confident learning and other
signals), a score, a suggested label and reasons per scored item

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 02:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import labelapp.models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "label_issue_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("n_scored", sa.Integer(), nullable=False),
        sa.Column("n_flagged", sa.Integer(), nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("created_at", labelapp.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_label_issue_runs_project_id", "label_issue_runs", ["project_id"])
    op.create_table(
        "label_issues",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("suggested", sa.String(length=80), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["run_id"], ["label_issue_runs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "item_id"),
    )
    op.create_index("ix_label_issues_run_score", "label_issues", ["run_id", "score"])


def downgrade() -> None:
    op.drop_index("ix_label_issues_run_score", table_name="label_issues")
    op.drop_table("label_issues")
    op.drop_index("ix_label_issue_runs_project_id", table_name="label_issue_runs")
    op.drop_table("label_issue_runs")
