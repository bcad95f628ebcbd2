"""A labeling project: its label set, guidelines and queue settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from active_learning.names import DEFAULT_FEATURIZER, DEFAULT_MAX_EMBEDDING_ITEMS, DEFAULT_STRATEGY
from labelapp.models.base import Base, utcnow

TASK_TYPES = ("text", "image")
QUEUE_ORDERS = ("import", "random")


class Project(Base):
    """What is labeled, with which labels, by how many annotators, in which order."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    task_type: Mapped[str] = mapped_column(String(16), default="text")
    multi_label: Mapped[bool] = mapped_column(default=False)
    # Overlap: ``overlap_share`` of the items (chosen by a seeded hash) need ``overlap_k``
    # annotators.
    overlap_k: Mapped[int] = mapped_column(default=1)
    overlap_share: Mapped[float] = mapped_column(default=1.0)
    gold_rate: Mapped[float] = mapped_column(default=0.0)
    strategy: Mapped[str] = mapped_column(String(32), default=DEFAULT_STRATEGY)
    # Text features for every model on the items (labelapp.services.featurizers): embeddings
    # unless the project has more than ``embedding_max_items`` items, then TF-IDF.
    featurizer: Mapped[str] = mapped_column(String(16), default=DEFAULT_FEATURIZER)
    embedding_max_items: Mapped[int] = mapped_column(default=DEFAULT_MAX_EMBEDDING_ITEMS)
    batch_size: Mapped[int] = mapped_column(default=50)
    retrain_every: Mapped[int] = mapped_column(default=50)
    lease_seconds: Mapped[int] = mapped_column(default=600)
    queue_order: Mapped[str] = mapped_column(String(16), default="import")
    queue_seed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Archived: hidden from annotators, read-only, still exportable
    # (labelapp.services.project_lifecycle).
    archived_at: Mapped[datetime | None] = mapped_column()
    # Whether the project's smes may add and remove members (admins always may).
    sme_manages_members: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # Metadata columns annotators see; None: all but label-like ones (labelapp.services.visibility).
    annotator_columns: Mapped[list[str] | None] = mapped_column()
    # Whether a horizontal flip keeps an image's label (off for digits and text in images: the
    # export then leaves flips out of augmentation; augment/label_safety.py).
    flips_keep_label: Mapped[bool] = mapped_column(default=True, server_default=sa_true())

    labels: Mapped[list[Label]] = relationship(
        order_by="Label.position", cascade="all, delete-orphan", lazy="select"
    )

    @property
    def retired_labels(self) -> list[str]:
        """Labels no longer offered; their answers stay (shown as retired in exports, agreement)."""
        return [label.name for label in self.labels if label.retired]


class Label(Base):
    """One class of a project's label set, in display order, with its hotkey."""

    __tablename__ = "labels"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        UniqueConstraint("project_id", "hotkey"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column()
    hotkey: Mapped[str] = mapped_column(String(8))
    # The "ambiguous / unsure" answer: a real label, stored and counted, never a training class.
    is_ambiguous: Mapped[bool] = mapped_column(default=False)
    # Retired: no longer offered; answers that name it are kept (labelapp.services.label_sets).
    retired: Mapped[bool] = mapped_column(default=False, server_default=sa_false())


class Guideline(Base):
    """A version of a project's labeling guidelines (Markdown). The highest version is current."""

    __tablename__ = "guidelines"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
