"""Which metadata columns annotators see. A project either names them (``annotator_columns``)
or uses the default: every column except label-like ones (a name such as ``label`` or
``sentiment``, or a value that is one of the project's labels). Reviewers see every column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp.db import ensure_write_lock
from labelapp.models import Item, Project, User
from labelapp.services.errors import UserError
from labelapp.services.projects import is_project_reviewer, require_writable

# Column names that usually hold an answer: hidden from annotators unless the project shows them.
LABEL_LIKE_NAMES = frozenset(
    {
        "label",
        "labels",
        "class",
        "category",
        "categories",
        "target",
        "answer",
        "gold",
        "truth",
        "ground_truth",
        "sentiment",
        "y",
        "tag",
        "tags",
        "annotation",
        "prediction",
        "predicted",
    }
)
# What the image importer records about each file (services/imports/images.py): technical, not
# something to label by; hidden from annotators unless the project names them (issue 18).
TECHNICAL_NAMES = frozenset({"file", "width", "height", "mode", "format"})
SAMPLE_ITEMS = 500


@dataclass
class ColumnInfo:
    """A metadata column of the project, an example value, and whether annotators see it."""

    name: str
    example: str
    label_like: bool
    shown: bool


def looks_like_label(project: Project, name: str, value: Any) -> bool:
    """A column name that names an answer, or a value that is one of the project's labels."""
    if name.strip().lower() in LABEL_LIKE_NAMES:
        return True
    names = {label.name for label in project.labels}
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and v.strip() in names for v in values)


def annotator_meta(project: Project, meta: dict[str, Any] | None) -> dict[str, Any]:
    """The part of an item's metadata that annotators of ``project`` may see."""
    meta = meta or {}
    if project.annotator_columns is not None:
        allowed = set(project.annotator_columns)
        return {k: v for k, v in meta.items() if k in allowed}
    return {
        k: v
        for k, v in meta.items()
        if k not in TECHNICAL_NAMES and not looks_like_label(project, k, v)
    }


def meta_for(
    session: Session, viewer: User, project: Project, meta: dict[str, Any] | None
) -> dict[str, Any]:
    """An item's metadata as ``viewer`` may see it: all of it for the project's reviewers."""
    if is_project_reviewer(session, viewer, project):
        return dict(meta or {})
    return annotator_meta(project, meta)


def project_columns(session: Session, project: Project) -> list[ColumnInfo]:
    """The metadata columns of the project's first items, and who sees them."""
    seen: dict[str, tuple[str, bool]] = {}
    for (meta,) in session.execute(
        select(Item.meta)
        .where(Item.project_id == project.id)
        .order_by(Item.position)
        .limit(SAMPLE_ITEMS)
    ):
        for key, value in (meta or {}).items():
            label_like = looks_like_label(project, key, value)
            example, was = seen.get(key, ("", False))
            seen[key] = (example or ("" if value is None else str(value)[:60]), was or label_like)
    chosen = project.annotator_columns
    return [
        ColumnInfo(name, example, like, (name in chosen) if chosen is not None else not like)
        for name, (example, like) in seen.items()
    ]


def set_annotator_columns(session: Session, project: Project, columns: list[str] | None) -> Project:
    """Show annotators exactly ``columns`` (None: the default rule)."""
    if columns is not None:
        bad = [c for c in columns if not isinstance(c, str) or not c or len(c) > 200]
        if bad:
            raise UserError("column names are 1-200 characters of text")
        columns = sorted(set(columns))
    require_writable(project, "column changes")
    ensure_write_lock(session)
    project.annotator_columns = columns
    session.commit()
    return project
