"""What every weak-supervision step shares: the project's classes, its items as a frame, human
labels by item, and the limits of LF previews."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp.models import (
    Item,
    Project,
    utcnow,
)
from labelapp.services.bulk import sqlite_timestamp
from labelapp.services.errors import NotFound, UserError

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


DECLARATIVE_KINDS = ("keyword", "regex", "metadata")


PREVIEW_ITEMS = 5000


PREVIEW_HITS = 20


SEED_THRESHOLD = 0.7


def class_names(project: Project) -> list[str]:
    """The classes LFs vote for, in order (index = vote); 'ambiguous' is never a class."""
    if project.multi_label:
        raise UserError("weak supervision works on single-label projects only")
    names = [lab.name for lab in project.labels if not lab.is_ambiguous]
    if len(names) < 2:
        raise UserError("weak supervision needs a project with at least two labels")
    return names


def items_frame(session: Session, project_id: int, limit: int | None = None) -> pd.DataFrame:
    """The project's items in import order: ``item_id``, ``external_id``, ``text`` and one
    column per metadata key (what metadata LFs read)."""
    import numpy as np
    import pandas as pd

    query = (
        select(Item.id, Item.external_id, Item.text, Item.meta)
        .where(Item.project_id == project_id)
        .order_by(Item.position)
    )
    if limit is not None:
        query = query.limit(limit)
    rows = session.execute(query).all()
    frame = pd.DataFrame(
        {
            "item_id": np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)),
            "external_id": [r[1] for r in rows],
            "text": [r[2] for r in rows],
        }
    )
    metas = [r[3] or {} for r in rows]
    keys = sorted({k for m in metas for k in m} - set(frame.columns))
    for key in keys:
        frame[key] = [m.get(key) for m in metas]
    return frame


def human_label_index(session: Session, project: Project, item_ids: np.ndarray) -> np.ndarray:
    """One class index per item (-1 = no human label), from the one label rule
    (:func:`labelapp.services.labels.human_labels`)."""
    import numpy as np

    from labelapp.services.labels import human_labels

    index = {name: i for i, name in enumerate(class_names(project))}
    labels = human_labels(session, project)
    return np.fromiter(
        (index.get(labels.get(int(i), ""), -1) for i in item_ids),
        dtype=np.int64,
        count=len(item_ids),
    )


def db_timestamp(session: Session) -> str:
    now = utcnow()
    return sqlite_timestamp(now) if session.get_bind().dialect.name == "sqlite" else now.isoformat()


def get_project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"no project {project_id}")
    return project
