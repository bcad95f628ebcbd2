"""The rows an export reads: every labeled item with its resolved label, and their provenance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from labelapp import config
from labelapp.models import (
    Item,
    LabelingFunction,
    LabelModelRun,
    Project,
)
from labelapp.services.labels import ResolvedLabels, resolve_labels

if TYPE_CHECKING:
    import pandas as pd

ID_CHUNK = 10_000  # ids per IN (...): below SQLite's and PostgreSQL's bound-parameter limits
_SELECT_BY_ID = 50_000  # up to this many items, read by id; more, one scan of the project


def items_frame(
    session: Session, project: Project, ids: Sequence[int] | None = None
) -> pd.DataFrame:
    """The items' content (all of the project's, or ``ids``) in the library's column names.

    ``item_id`` is the database id; ``external_id`` (the import's id) travels as an extra column;
    image paths are absolute (under :func:`labelapp.config.media_dir`); metadata is JSON text.
    """
    import pandas as pd

    i = Item
    # Metadata as its JSON text: the export canonicalizes it from text anyway (one parse, not two).
    meta = cast(i.meta, Text)
    query = select(
        i.id, i.external_id, i.text, i.image_path, i.content_hash, meta, i.group_key, i.split
    ).where(i.project_id == project.id)
    if ids is not None and len(ids) <= _SELECT_BY_ID:
        # A few labeled items of a big project: read those rows only (by primary key).
        wanted = sorted(set(map(int, ids)))
        rows = [
            row
            for start in range(0, len(wanted), ID_CHUNK)
            for row in session.execute(
                query.where(i.id.in_(wanted[start : start + ID_CHUNK])).order_by(i.id)
            )
        ]
    else:
        rows = session.execute(query.order_by(i.id)).all()
    names = [
        "item_id",
        "external_id",
        "text",
        "image_path",
        "content_hash",
        "metadata",
        "group_key",
        "split",
    ]
    # Column lists, not Row objects: pandas inspects every Row when given them (3x slower).
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    frame = pd.DataFrame(
        {n: pd.Series(c, dtype=object) for n, c in zip(names, columns, strict=True)}
    )
    frame["item_id"] = frame["item_id"].astype("int64")
    if ids is not None:
        frame = frame[frame["item_id"].isin(set(ids))].reset_index(drop=True)
    if project.task_type == "image":
        media = config.media_dir()
        frame["image_path"] = [str(media / p) if p else None for p in frame["image_path"]]
        return frame.drop(columns="text")
    return frame.drop(columns="image_path")


def export_items(session: Session, project: Project) -> tuple[pd.DataFrame, ResolvedLabels]:
    """One row per labeled item: content plus ``label``, ``label_source``, ``confidence``."""
    import pandas as pd

    resolved = resolve_labels(session, project)
    frame = items_frame(session, project, list(resolved.labels))
    known = frame["item_id"].isin(set(resolved.labels)).to_numpy()
    frame = frame[known].reset_index(drop=True)
    entries = [resolved.labels[i] for i in frame["item_id"]]
    if project.multi_label:
        frame["label"] = pd.Series([e[0] for e in entries], dtype=object)
    else:
        frame["label"] = [e[0][0] for e in entries]
    frame["label_source"] = [e[1] for e in entries]
    frame["confidence"] = [e[2] for e in entries]
    return frame, resolved


def provenance(session: Session, project: Project, resolved: ResolvedLabels) -> dict[str, Any]:
    """What the labels came from: the project, the label-model runs and their LF set."""
    runs = (
        session.execute(
            select(LabelModelRun.id, LabelModelRun.kind, LabelModelRun.lf_ids).where(
                LabelModelRun.id.in_(resolved.label_model_runs)
            )
        ).all()
        if resolved.label_model_runs
        else []
    )
    lf_ids = sorted({int(x) for _, _, ids in runs for x in (ids or [])})
    lfs = (
        session.execute(
            select(LabelingFunction.id, LabelingFunction.name, LabelingFunction.version)
            .where(LabelingFunction.id.in_(lf_ids))
            .order_by(LabelingFunction.id)
        ).all()
        if lf_ids
        else []
    )
    return {
        "project": project.name,
        "project_id": project.id,
        "task_type": project.task_type,
        # The label set, in order: a retired label is no longer offered, but its answers are
        # kept and exported like any other (split with them; the counts show how many).
        "labels": [
            {"name": lab.name, "retired": lab.retired, "ambiguous": lab.is_ambiguous}
            for lab in project.labels
        ],
        "retired_labels": project.retired_labels,
        "label_model_runs": [{"id": r, "kind": k} for r, k, _ in runs],
        "lf_set": [{"id": i, "name": n, "version": v} for i, n, v in lfs],
        "left_out": dict(sorted(resolved.left_out.items())),
    }
