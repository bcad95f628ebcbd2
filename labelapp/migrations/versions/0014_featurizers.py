"""issue 19: the project's text featurizer (embeddings or TF-IDF) and its embedding size limit

Existing projects get sentence embeddings (TF-IDF above 200,000 items), like new ones. Embedding
vectors are cached on disk by content hash (``<data dir>/embeddings``), not in the database.
New projects default to the ``auto`` query strategy (a Python-side default in the model, as
``strategy`` has always been); existing projects keep the strategy they have.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (with a constant default) on SQLite too: a batch rebuild of ``projects``
    # would drop and recreate the table every other table references.
    op.add_column(
        "projects",
        sa.Column("featurizer", sa.String(length=16), nullable=False, server_default="embeddings"),
    )
    op.add_column(
        "projects",
        sa.Column("embedding_max_items", sa.Integer(), nullable=False, server_default="200000"),
    )


def downgrade() -> None:
    with op.batch_alter_table("projects", recreate="never") as batch:
        batch.drop_column("embedding_max_items")
        batch.drop_column("featurizer")
