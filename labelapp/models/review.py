"""What reviewers act on: items annotators flagged (unclear guideline, broken, offensive)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from labelapp.models.base import Base, utcnow

FLAG_REASONS = ("unclear_guideline", "broken_item", "offensive", "other")


class Flag(Base):
    """An annotator's flag on an item, with an optional comment; open until a reviewer resolves it.

    Flagging does not answer the item: the annotator may still label or skip it.
    """

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    client_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column()
    resolution: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("user_id", "client_id", name="uq_flags_user_client"),
        Index("ix_flags_project_open", "project_id", "resolved_at", "id"),
        Index("ix_flags_item", "item_id"),
    )


class LabelIssueRun(Base):
    """One scan for wrong labels: which labels it scored, how many it flagged, with what."""

    __tablename__ = "label_issue_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    n_scored: Mapped[int] = mapped_column(default=0)
    n_flagged: Mapped[int] = mapped_column(default=0)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabelIssue(Base):
    """A scored label of a scan: how likely it is wrong (``score``), what it should perhaps be,
    and why. Every human-labeled item of the scan has a row; ``flagged`` ones need a look."""

    __tablename__ = "label_issues"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("label_issue_runs.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    label: Mapped[str] = mapped_column(String(80))
    suggested: Mapped[str] = mapped_column(String(80))
    score: Mapped[float] = mapped_column()
    flagged: Mapped[bool] = mapped_column(default=False)
    reasons: Mapped[list[str]] = mapped_column(default=list)

    __table_args__ = (Index("ix_label_issues_run_score", "run_id", "score"),)


class LabelCorrection(Base):
    """A reviewer's correction of an item's label, with the reason. Corrections are appended,
    never overwritten: the latest is the item's label, above every other source
    (:mod:`labelapp.services.labels`), and the earlier ones stay in the item's history."""

    __tablename__ = "label_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    labels: Mapped[list[str]] = mapped_column()
    previous_labels: Mapped[list[str] | None] = mapped_column()  # the label it replaced, if any
    previous_source: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_label_corrections_project_item", "project_id", "item_id", "id"),
        Index("ix_label_corrections_item", "item_id"),
    )


class AdjudicationRequest(Base):
    """A reviewer sent the item to adjudication from the review page (with the filter's reason):
    it is in the adjudication backlog until someone adjudicates or corrects it."""

    __tablename__ = "adjudication_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_adjudication_requests_project_item", "project_id", "item_id"),)
