"""Read a project's items for drift and slices: a million items in seconds.

The rows come through the database driver's own cursor in chunks (no ORM objects, no
SQLAlchemy rows: at two million items those cost more than the tests), with Python's cycle
collector paused while they arrive, and the metadata, stored
as one JSON object per item, is parsed by pyarrow's multi-threaded JSON reader in one pass over
the joined lines, straight into typed columns (ints stay ints, strings strings). A file whose
key holds a number in one item and a string in another is more than pyarrow's typed columns
hold, and pyarrow's lists and structs are not Python's: those rare cases fall back to pandas'
JSON reader, which keeps each value as it is. ISO dates stay the text they were.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from labelapp.models import Project

if TYPE_CHECKING:
    import pandas as pd

CHUNK = 50_000  # rows per fetch; also the ids per IN (...) list, below both databases' limits


def project_items(
    session: Session, project: Project, only: set[int] | None = None, texts: bool = True
) -> pd.DataFrame:
    """Every item of the project (or those in ``only``): id, import, split, ``$text``, ``$label``
    (human) and metadata. ``texts=False``: a text's length ``$text_length``, not the text (the
    drift tests read the texts of their samples only, :func:`item_texts`)."""
    import numpy as np
    import pandas as pd

    from labelapp.services.drift.stats import LABEL, TEXT, TEXT_LENGTH
    from labelapp.services.labels import human_labels

    ids: list[int] = []
    imports: list[Any] = []
    splits: list[Any] = []
    contents: list[Any] = []
    metas: list[str] = []
    with _no_cyclic_gc():
        for chunk in _rows(session, project.id, only, texts):
            i, m, s, t, j = zip(*chunk, strict=True)
            ids += i
            imports += m
            splits += s
            contents += t
            metas += j
    frame = pd.DataFrame(
        {
            "item_id": np.asarray(ids, dtype=np.int64),
            "import_id": pd.Series(imports, dtype=object),
            "split": pd.Series(splits, dtype=object),
        }
    )
    if project.task_type == "text" and texts:
        frame[TEXT] = pd.Series(contents, dtype=object)
    elif project.task_type == "text":
        frame[TEXT_LENGTH] = pd.Series(contents, dtype=float).fillna(0).astype(np.int64)
    del contents
    labels = human_labels(session, project)
    frame[LABEL] = frame["item_id"].map(labels)
    meta = parse_meta(metas)
    meta.columns = [str(c) for c in meta.columns]
    items = pd.concat([frame, meta], axis=1)
    if len(ids) > 1 and not bool(np.all(np.diff(frame["item_id"].to_numpy()) > 0)):
        items = items.sort_values("item_id", kind="stable", ignore_index=True)
    return items


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Millions of row tuples, none in a reference cycle: without this, Python's cycle collector
    walks every live one again and again as they are made (3.4 of 7.9 s at two million rows)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def item_texts(session: Session, ids: list[int]) -> dict[int, str | None]:
    """The texts of the items ``ids``, by id."""
    found: dict[int, str | None] = {}
    with _cursor(session) as (cursor, mark):
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            cursor.execute(
                f"SELECT id, text FROM items WHERE id IN ({', '.join([mark] * len(part))})", part
            )
            found.update(cursor.fetchall())
    return found


@contextmanager
def _cursor(session: Session) -> Iterator[tuple[Any, str]]:
    """The driver's own cursor on the session's connection, and its parameter mark."""
    connection = session.connection()
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        yield cursor, "?" if connection.dialect.name == "sqlite" else "%s"
    finally:
        cursor.close()


def _rows(
    session: Session, project_id: int, only: set[int] | None, texts: bool
) -> Iterator[list[tuple]]:
    """The items' (id, import_id, split, text or its length, meta as JSON text), in chunks."""
    sqlite = session.connection().dialect.name == "sqlite"
    meta = "COALESCE(meta, '{}')" if sqlite else "COALESCE(meta::text, '{}')"
    # Both count characters (SQLite's length() of TEXT, PostgreSQL's char_length), as len() does.
    text = "text" if texts else ("length(text)" if sqlite else "char_length(text)")
    mark = "?" if sqlite else "%s"
    # No ORDER BY: the rows come in the (project_id, position) index's order, and sorting two
    # million rows in the database costs seconds; the caller sorts by id when they are not.
    head = f"SELECT id, import_id, split, {text}, {meta} FROM items WHERE project_id = {mark}"
    with _cursor(session) as (cursor, _):
        if only is None:
            cursor.execute(head, (project_id,))
            while chunk := cursor.fetchmany(CHUNK):
                yield chunk
            return
        wanted = sorted(only)
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            marks = ", ".join([mark] * len(part))
            cursor.execute(f"{head} AND id IN ({marks})", (project_id, *part))
            if chunk := cursor.fetchall():
                yield chunk


def parse_meta(metas: list[str]) -> pd.DataFrame:
    """One column per key of the JSON objects ``metas`` (one row each, RangeIndex)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.json as pj

    if not metas:
        return pd.DataFrame()
    blob = "\n".join(metas).encode()
    try:
        table = pj.read_json(io.BytesIO(blob))
        dates = [f for f in table.schema if pa.types.is_timestamp(f.type)]
        if dates:  # pyarrow reads ISO dates as timestamps: read those keys again as the text
            table = pj.read_json(
                io.BytesIO(blob),
                parse_options=pj.ParseOptions(
                    explicit_schema=pa.schema([pa.field(f.name, pa.string()) for f in dates]),
                    unexpected_field_behavior="infer",
                ),
            )
    except pa.ArrowInvalid:  # a key with values of several JSON types
        return pd.read_json(io.BytesIO(blob), lines=True, dtype=False)
    if any(pa.types.is_nested(f.type) for f in table.schema):  # lists and objects as Python's
        return pd.read_json(io.BytesIO(blob), lines=True, dtype=False)
    if table.num_columns == 0:
        return pd.DataFrame(index=pd.RangeIndex(len(metas)))
    return table.to_pandas()
