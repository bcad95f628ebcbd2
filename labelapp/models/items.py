"""Items to label, the imports that created them, and their queue entries (with leases)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from labelapp.models.base import Base, utcnow


class ImportBatch(Base):
    """One import of a file or folder: what it brought and what it found already there."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    filename: Mapped[str] = mapped_column(String(500))
    format: Mapped[str] = mapped_column(String(16))
    label_source: Mapped[str | None] = mapped_column(String(80))
    rows_total: Mapped[int] = mapped_column(default=0)
    items_created: Mapped[int] = mapped_column(default=0)
    items_existing: Mapped[int] = mapped_column(default=0)
    annotations_created: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Item(Base):
    """A text or an image to classify. ``position`` is the stable import order within the
    project."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("project_id", "external_id"),
        Index("ix_items_project_id_position", "project_id", "position"),
        # The label rule reads a project's gold items (few) without visiting all its items.
        Index(
            "ix_items_gold",
            "project_id",
            sqlite_where=text("gold_labels IS NOT NULL"),
            postgresql_where=text("gold_labels IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    text: Mapped[str | None] = mapped_column(Text)
    image_path: Mapped[str | None] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    group_key: Mapped[str | None] = mapped_column(String(255))
    split: Mapped[str | None] = mapped_column(String(8))
    position: Mapped[int] = mapped_column()
    # How many distinct annotators this item needs (the project's overlap k, or 1).
    target_k: Mapped[int] = mapped_column(default=1)
    # Known answer for gold items (seeded into the queue to measure annotator accuracy).
    gold_labels: Mapped[list[str] | None] = mapped_column()
    # Which import created the item. Not a foreign key on purpose: a foreign key costs a trigger
    # call per row, ~7 s per million rows measured on PostgreSQL, and the importer writes this
    # id in the same transaction that creates the import row. Imports are never deleted alone.
    import_id: Mapped[int | None] = mapped_column(index=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QueueEntry(Base):
    """An item's place in its project's queue and its current lease.

    ``remaining`` counts the human labels still needed; ``priority`` is set by active learning
    (higher first) and ``position`` breaks ties in a stable order.
    """

    __tablename__ = "queue_entries"
    __table_args__ = (
        Index(
            "ix_queue_entries_next",
            "project_id",
            text("priority DESC"),
            "position",
            sqlite_where=text("remaining > 0"),
            postgresql_where=text("remaining > 0"),
        ),
        # Finds an annotator's own live lease (a reopened page resumes it) without a scan.
        Index(
            "ix_queue_entries_leased_by_id",
            "leased_by_id",
            sqlite_where=text("leased_by_id IS NOT NULL"),
            postgresql_where=text("leased_by_id IS NOT NULL"),
        ),
    )

    # The item's id. Not a foreign key on purpose (see Item.import_id): entries are written by
    # the importer right after their items, in the same transaction, and items are never deleted
    # one by one; deleting a project still removes both through project_id.
    item_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    priority: Mapped[float] = mapped_column(default=0.0)
    score: Mapped[float | None] = mapped_column()
    strategy: Mapped[str | None] = mapped_column(String(32))
    model_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_runs.id", ondelete="SET NULL")
    )
    remaining: Mapped[int] = mapped_column(default=1)
    leased_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    lease_expires_at: Mapped[datetime | None] = mapped_column()
    is_gold: Mapped[bool] = mapped_column(default=False)


class Annotation(Base):
    """An append-only record of what someone said about an item.

    ``kind`` is ``label`` (a label or labels), ``skip``, ``retract`` (undo of the same person's
    earlier label) or ``adjudicate`` (a reviewer's final word). An edit is a new row; for each
    (item, user or source) the latest row counts. Imported labels have no user but a ``source``.
    """

    __tablename__ = "annotations"
    __table_args__ = (
        UniqueConstraint("user_id", "client_id"),
        Index("ix_annotations_item_id_user_id", "item_id", "user_id"),
        Index("ix_annotations_project_id_created_at", "project_id", "created_at"),
        Index("ix_annotations_user_id_project_id_id", "user_id", "project_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(80), default="human")
    kind: Mapped[str] = mapped_column(String(16), default="label")
    labels: Mapped[list[str]] = mapped_column(default=list)
    client_id: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int | None] = mapped_column()
    guideline_version: Mapped[int | None] = mapped_column()
    strategy: Mapped[str | None] = mapped_column(String(32))
    model_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_runs.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
