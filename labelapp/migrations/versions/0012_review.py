"""issue 15: label_corrections (reviewers' corrections, appended with a reason; the top-priority
label of an item) and adjudication_requests (items a reviewer sent to adjudication)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import labelapp.models.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "label_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("labels", JSON, nullable=False),
        sa.Column("previous_labels", JSON, nullable=True),
        sa.Column("previous_source", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", labelapp.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_label_corrections_project_item", "label_corrections", ["project_id", "item_id", "id"]
    )
    op.create_index("ix_label_corrections_item", "label_corrections", ["item_id"])
    op.create_table(
        "adjudication_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", labelapp.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_adjudication_requests_project_item", "adjudication_requests", ["project_id", "item_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_adjudication_requests_project_item", table_name="adjudication_requests")
    op.drop_table("adjudication_requests")
    op.drop_index("ix_label_corrections_item", table_name="label_corrections")
    op.drop_index("ix_label_corrections_project_item", table_name="label_corrections")
    op.drop_table("label_corrections")
