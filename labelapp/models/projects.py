"""A labeling project: its label set, guidelines and queue settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    # Overlap: ``overlap_share`` of the items (chosen by a seeded hash) need ``overlap_k`` annotators.
    overlap_k: Mapped[int] = mapped_column(default=1)
    overlap_share: Mapped[float] = mapped_column(default=1.0)
    gold_rate: Mapped[float] = mapped_column(default=0.0)
    strategy: Mapped[str] = mapped_column(String(32), default="margin")
    batch_size: Mapped[int] = mapped_column(default=50)
    retrain_every: Mapped[int] = mapped_column(default=50)
    lease_seconds: Mapped[int] = mapped_column(default=600)
    queue_order: Mapped[str] = mapped_column(String(16), default="import")
    queue_seed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    labels: Mapped[list[Label]] = relationship(
        order_by="Label.position", cascade="all, delete-orphan", lazy="select"
    )


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
