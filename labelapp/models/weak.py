"""Weak supervision state: labeling functions, their votes, label-model runs, probabilistic
labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from labelapp.models.base import Base, utcnow

LF_KINDS = ("keyword", "regex", "metadata", "python")


class LabelingFunction(Base):
    """A versioned labeling function. Declarative kinds keep their ``spec``; Python ones their
    source."""

    __tablename__ = "labeling_functions"
    __table_args__ = (UniqueConstraint("project_id", "name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    spec: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)
    active: Mapped[bool] = mapped_column(default=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set on every version when the LF is deleted: its votes go, its history stays.
    deleted_at: Mapped[datetime | None] = mapped_column()


class WeakLabel(Base):
    """A labeling function's non-abstaining vote on an item (abstains are not stored)."""

    __tablename__ = "weak_labels"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    lf_id: Mapped[int] = mapped_column(
        ForeignKey("labeling_functions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    vote: Mapped[int] = mapped_column()


class LabelModelRun(Base):
    """One weak-supervision run, with its inputs and metrics. ``kind``: ``apply`` (LF votes
    stored, and on which applier), ``label_model`` (a fit), ``propagation`` (a spreading pass)
    or ``end_model`` (a classifier trained on label-model labels)."""

    __tablename__ = "label_model_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    lf_ids: Mapped[list[int]] = mapped_column(default=list)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProbLabel(Base):
    """Class probabilities for an item, with provenance: which source and which run produced
    them."""

    __tablename__ = "prob_labels"
    __table_args__ = (Index("ix_prob_labels_project_id_source", "project_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))  # label_model | propagation | model
    label_model_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("label_model_runs.id", ondelete="CASCADE")
    )
    model_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_runs.id", ondelete="CASCADE")
    )
    probs: Mapped[list[float]] = mapped_column()
    label: Mapped[str] = mapped_column(String(80))
    confidence: Mapped[float] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
