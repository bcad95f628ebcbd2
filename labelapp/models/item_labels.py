"""Each item's resolved label, materialized: what :mod:`labelapp.services.labels` decides, kept
current by every write that can change it, so the review page filters and sorts in SQL."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from labelapp.models.base import Base, utcnow

LABEL_SEPARATOR = "\x1f"  # ASCII unit separator: no label name holds one
NO_SCORE = -1.0  # issue_score / confidence of an item without one: sorts below every real value


class ItemLabel(Base):
    """One row per item: its resolved label(s), source and confidence, how many annotators
    answered and whether they disagree, the latest scan's label-issue score, open flags.

    Written only by :func:`labelapp.services.labels.refresh_item_labels`. ``item_id`` and
    ``project_id`` carry no foreign keys on purpose (see ``QueueEntry.item_id``): a key costs a
    trigger call per row, and a million-item import writes a row per item; deleting a project
    deletes its rows through ``project_id`` (:mod:`labelapp.services.project_lifecycle`).
    ``confidence`` and ``issue_score`` are :data:`NO_SCORE` rather than NULL when absent, so a
    keyset page over ``(score, item_id)`` is one index range scan on both databases. Five
    indexes cover the page's sorts and filters; each costs every bulk write (an import writes a
    row per item), so pages sorted by item use the primary key.
    """

    __tablename__ = "item_labels"
    __table_args__ = (
        Index("ix_item_labels_project_score", "project_id", "issue_score", "item_id"),
        Index("ix_item_labels_project_confidence", "project_id", "confidence", "item_id"),
        Index("ix_item_labels_label", "project_id", "label", "issue_score", "item_id"),
        Index("ix_item_labels_source", "project_id", "source", "issue_score", "item_id"),
        # Few items disagree or are flagged: partial indexes, empty for the rest.
        Index(
            "ix_item_labels_disagreement",
            "project_id",
            "issue_score",
            "item_id",
            sqlite_where=text("disagreement = 1"),
            postgresql_where=text("disagreement"),
        ),
        Index(
            "ix_item_labels_flagged",
            "project_id",
            "issue_score",
            "item_id",
            sqlite_where=text("flagged = 1"),
            postgresql_where=text("flagged"),
        ),
    )

    item_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    project_id: Mapped[int] = mapped_column()
    labels: Mapped[list[str] | None] = mapped_column()
    # The filter's key: the label, or a multi-label item's labels joined by LABEL_SEPARATOR.
    label: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(default=NO_SCORE)
    n_answers: Mapped[int] = mapped_column(default=0)  # annotators with a current label
    disagreement: Mapped[bool] = mapped_column(default=False)  # they gave different answers
    issue_score: Mapped[float] = mapped_column(default=NO_SCORE)  # the latest scan's
    flagged: Mapped[bool] = mapped_column(default=False)  # an open flag
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
