"""What happened to a project's label set: each add, rename, retire, merge and reorder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from labelapp.models.base import Base, utcnow

LABEL_CHANGE_KINDS = ("add", "rename", "retire", "restore", "merge", "hotkeys")


class LabelChange(Base):
    """One change to a label set, who made it and how many stored answers it rewrote."""

    __tablename__ = "label_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    old_name: Mapped[str | None] = mapped_column(String(80))
    new_name: Mapped[str | None] = mapped_column(String(80))
    answers_changed: Mapped[int] = mapped_column(default=0)
    # A rename or merge: rows changed per store (answers, gold_answers, corrections,
    # probabilistic_labels, lf_votes, ...: labelapp.services.label_rewrite); None for others.
    rewritten: Mapped[dict[str, Any] | None] = mapped_column()
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
