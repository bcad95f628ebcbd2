"""issue 15: item_labels, each item's resolved label materialized (label, source, confidence,
annotators and disagreement, the latest label-issue score, open flags) with the review page's
indexes; ``labelapp db upgrade`` fills it for existing projects right after this revision
(:func:`labelapp.migrate.backfill_item_labels`: the one rule is Python, not SQL)

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-06 07:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import labelapp.models.base

revision: str = "0018"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

INDEXES = {
    "ix_item_labels_project_score": ["project_id", "issue_score", "item_id"],
    "ix_item_labels_project_confidence": ["project_id", "confidence", "item_id"],
    "ix_item_labels_label": ["project_id", "label", "issue_score", "item_id"],
    "ix_item_labels_source": ["project_id", "source", "issue_score", "item_id"],
}
# Partial indexes (few items disagree or are flagged), with each database's predicate.
PARTIAL = {
    "ix_item_labels_disagreement": ("disagreement = 1", "disagreement"),
    "ix_item_labels_flagged": ("flagged = 1", "flagged"),
}


def upgrade() -> None:
    op.create_table(
        "item_labels",
        sa.Column("item_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("labels", JSON, nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=True),
        sa.Column("confidence", sa.Double(), nullable=False),
        sa.Column("n_answers", sa.Integer(), nullable=False),
        sa.Column("disagreement", sa.Boolean(), nullable=False),
        sa.Column("issue_score", sa.Double(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("updated_at", labelapp.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_labels")),
    )
    with op.batch_alter_table("item_labels") as batch:
        for name, columns in INDEXES.items():
            batch.create_index(name, columns)
        for name, (sqlite_where, postgresql_where) in PARTIAL.items():
            batch.create_index(
                name,
                ["project_id", "issue_score", "item_id"],
                sqlite_where=sa.text(sqlite_where),
                postgresql_where=sa.text(postgresql_where),
            )


def downgrade() -> None:
    with op.batch_alter_table("item_labels") as batch:
        for name in [*reversed(PARTIAL), *reversed(INDEXES)]:
            batch.drop_index(name)
    op.drop_table("item_labels")
