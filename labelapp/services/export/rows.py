"""The rows an export reads: every labeled item with its resolved label, and their provenance."""

from __future__ import annotations

import gc
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from itertools import compress
from sys import intern
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, Text, cast, select
from sqlalchemy.orm import Session

from labelapp import config
from labelapp.models import (
    Item,
    LabelingFunction,
    LabelModelRun,
    Project,
)
from labelapp.services.labels import Resolved, ResolvedLabels, resolve_in_ranges

if TYPE_CHECKING:
    import pandas as pd

ID_CHUNK = 10_000  # ids per IN (...): below SQLite's and PostgreSQL's bound-parameter limits
_SELECT_BY_ID = 50_000  # up to this many items, read by id; more, one scan of the project
_SCAN_ROWS = 50_000  # rows (or wanted ids) per statement of a large read


def items_frame(
    session: Session,
    project: Project,
    ids: Sequence[int] | None = None,
    *,
    content: Collection[int] | None = None,
    compact: Collection[str] = (),
) -> pd.DataFrame:
    """The items' content (all of the project's, or ``ids``) in the library's column names.

    ``item_id`` is the database id; ``external_id`` (the import's id) travels as an extra column;
    image paths are absolute (under :func:`labelapp.config.media_dir`); metadata is JSON text.
    ``content``: only these items carry their content (text or image path, metadata, external
    id, group key, content hash); the others only their id and ``split``. ``compact``: these
    columns (``external_id``, ``metadata``) as Arrow strings, not Python ones: ~60 bytes less
    per value (the export needs them only when it writes).

    A large read goes part by part and keeps the wanted rows as it goes: what it holds grows
    with the rows kept, not with the project (one 10M-item scan held all 10M rows).
    """
    import pandas as pd
    import pyarrow as pa

    names = list(_ITEM_COLUMNS)
    query = select(*_item_columns()).where(Item.project_id == project.id)
    wanted = None if ids is None else set(map(int, ids))
    full = None if content is None else set(map(int, content))
    columns: list[list[Any]] = [[] for _ in names]
    arrow = {names.index(c) for c in compact}
    with _collector_paused():
        _read_columns(session, query, wanted, full, columns, arrow)
    # Column lists, not Row objects: pandas inspects every Row when given them (3x slower).
    frame = pd.DataFrame(
        {
            n: pd.arrays.ArrowExtensionArray(pa.chunked_array(c, pa.string()))
            if number in arrow
            else pd.Series(c, dtype=object)
            for number, (n, c) in enumerate(zip(names, columns, strict=True))
        }
    )
    del columns
    frame["item_id"] = frame["item_id"].astype("int64")
    if project.task_type == "image":
        media = config.media_dir()
        frame["image_path"] = [str(media / p) if p else None for p in frame["image_path"]]
        return frame.drop(columns="text")
    return frame.drop(columns="image_path")


_ITEM_COLUMNS = (
    "item_id",
    "external_id",
    "text",
    "image_path",
    "content_hash",
    "metadata",
    "group_key",
    "split",
)


def _item_columns() -> tuple[Any, ...]:
    i = Item
    # Metadata as its JSON text: the export canonicalizes it from text anyway (one parse, not two).
    meta = cast(i.meta, Text)
    return (i.id, i.external_id, i.text, i.image_path, i.content_hash, meta, i.group_key, i.split)


def _read_columns(
    session: Session,
    query: Select,
    wanted: set[int] | None,
    full: set[int] | None,
    columns: list[list[Any]],
    arrow: set[int],
) -> None:
    """Append the wanted rows' values to ``columns`` (one list per column; for the columns in
    ``arrow``, one Arrow array per part); the content of rows not in ``full`` (when given) as
    None; the split names interned (one string each, not one per item)."""
    import pyarrow as pa

    for part in _item_rows(session, query, wanted):
        if not part:
            continue
        read = list(zip(*part, strict=True))  # per column, a tuple of its values
        if wanted is not None:
            keep = [i in wanted for i in read[0]]
            read = [tuple(compress(values, keep)) for values in read]
        if full is not None:
            has = [i in full for i in read[0]]
            for number in range(1, len(read) - 1):  # all but the id and the split
                read[number] = tuple(
                    v if h else None for v, h in zip(read[number], has, strict=True)
                )
        read[-1] = tuple(None if v is None else intern(v) for v in read[-1])
        for number, (values, column) in enumerate(zip(columns, read, strict=True)):
            if number in arrow:
                values.append(pa.array(column, pa.string()))
            else:
                values.extend(column)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while millions of tuples are made (none of them in a cycle):
    each full collection walks every live object, which made a 1M-row read ~1.5x slower."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _item_rows(
    session: Session, query: Select, wanted: set[int] | None
) -> Iterator[Sequence[Row[Any]]]:
    """The rows of ``query`` in id order, part by part (the caller keeps the wanted ones): by
    primary key for a few wanted ids of a big project, else by id ranges of up to
    :data:`_SCAN_ROWS` wanted ids (or rows), so a part is one short indexed statement."""
    if wanted is None:
        last = None
        while True:
            page = query if last is None else query.where(Item.id > last)
            rows = session.execute(page.order_by(Item.id).limit(_SCAN_ROWS)).all()
            if not rows:
                return
            yield rows
            last = rows[-1][0]
    ordered = sorted(wanted)
    if len(ordered) <= _SELECT_BY_ID:
        for start in range(0, len(ordered), ID_CHUNK):
            chunk = ordered[start : start + ID_CHUNK]
            yield session.execute(query.where(Item.id.in_(chunk)).order_by(Item.id)).all()
        return
    for start in range(0, len(ordered), _SCAN_ROWS):
        low, high = ordered[start], ordered[min(start + _SCAN_ROWS, len(ordered)) - 1]
        yield session.execute(query.where(Item.id.between(low, high)).order_by(Item.id)).all()


def export_items(
    session: Session,
    project: Project,
    *,
    min_confidence: float | None = None,
    compact: Collection[str] = (),
) -> tuple[pd.DataFrame, ResolvedLabels]:
    """One row per labeled item: content plus ``label``, ``label_source``, ``confidence``.

    ``min_confidence``: an item whose label is weak (not a human source) and below it cannot
    take part in a split (:mod:`augment.splits`, rule 1): its row carries no content, only its
    id, label and previous split. The :class:`ResolvedLabels` returned keeps what provenance
    needs (left-out counts, label-model runs), not the per-item labels (they are in the frame).
    ``compact``: see :func:`items_frame`.
    """
    import pandas as pd

    summary = ResolvedLabels()
    runs: set[int] = set()
    parts = [
        _label_part(chunk, project.multi_label)
        for chunk in resolve_in_ranges(session, project, True, None, summary.left_out, runs)
    ]
    summary.label_model_runs = sorted(runs)
    labels = pd.concat(parts, ignore_index=True) if parts else _label_part({}, project.multi_label)
    del parts
    ids = labels["item_id"].tolist()
    content = None
    if min_confidence is not None:
        from labelapp.export import may_take_part

        content = labels["item_id"][may_take_part(labels, min_confidence)].tolist()
    frame = items_frame(session, project, ids, content=content, compact=compact)
    # Both are in id order; an item deleted since its label was read drops out.
    labels = labels[labels["item_id"].isin(frame["item_id"])].reset_index(drop=True)
    for column in ("label", "label_source", "confidence"):
        frame[column] = labels[column].to_numpy()
    return frame, summary


def _label_part(chunk: dict[int, Resolved], multi: bool) -> pd.DataFrame:
    """One id range's resolved labels as columns (an id range at a time: per item a dict
    entry, tuple and list take ~0.5 kB; these columns hold a tenth of it)."""
    import pandas as pd

    ids = list(chunk)
    return pd.DataFrame(
        {
            "item_id": pd.Series(ids, dtype="int64"),
            "label": pd.Series(
                [intern(chunk[i][0][0]) if not multi else chunk[i][0] for i in ids], dtype=object
            ),
            "label_source": pd.Series([chunk[i][1] for i in ids], dtype="category"),
            "confidence": pd.Series([chunk[i][2] for i in ids], dtype="float64"),
        }
    )


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
