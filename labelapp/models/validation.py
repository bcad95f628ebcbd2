"""Data validation: a project's schema versions and the schema check of each import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from labelapp.models.base import Base, utcnow


class ProjectSchema(Base):
    """A version of a project's item schema (pandera's JSON form). The highest version is current.

    ``reason``: ``inferred`` (first import), ``evolved`` (an import accepted with ``evolve``) or
    ``edited`` (an admin loosened it). ``import_id``: the import that made it, if any.
    """

    __tablename__ = "project_schemas"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    schema: Mapped[dict[str, Any]] = mapped_column()
    reason: Mapped[str] = mapped_column(String(16))
    import_id: Mapped[int | None] = mapped_column()
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SchemaCheck(Base):
    """An import's provenance against the schema: the version it was checked against (and the
    one it created under ``evolve``), the mode and the problems found."""

    __tablename__ = "schema_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    import_id: Mapped[int] = mapped_column(index=True)
    mode: Mapped[str] = mapped_column(String(16))
    checked_version: Mapped[int | None] = mapped_column()
    schema_version: Mapped[int] = mapped_column()
    problems: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
