"""A table file (CSV, TSV, JSONL, Parquet) checked chunk by chunk before anything is stored.

Memory does not grow with the file beyond a few bytes a row (issue 16: a 10M-row import in
well under 6 GB): the rows are read :data:`~labelapp.services.imports.readers.CHUNK_ROWS` at a
time, and of each row only what the whole file's checks need is kept: a 128-bit hash of its
item id and one of what it says (:class:`~labelapp.services.imports.validate.RowKeys`), and
whether it is labeled, already in the project, or changed there.

1. Every chunk is validated (the same problems, line numbers and limits as a whole-file
   check), its items looked up among the project's, its confidences read; a first import infers
   the schema from it. Then the ids used for different rows are found over the whole file.
2. A later import checks the rows that bring new items against the project schema.
3. The importer reads the file a last time, storing it chunk by chunk (:meth:`TableRows.chunks`)
   in its one transaction.

Nothing is stored before steps 1 and 2 have passed, so a bad row anywhere refuses the file and
names its line, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp.models import Item, Project
from labelapp.services.errors import UserError
from labelapp.services.imports import readers
from labelapp.services.imports.validate import (
    Columns,
    RowKeys,
    RowName,
    RowProblems,
    check_columns,
    check_rows,
    rows_frame,
)
from labelapp.services.imports.weak_labels import Confidences
from labelapp.services.schema.store import TableCheck, schema_frame

if TYPE_CHECKING:
    from labelapp.services.imports.importer import ImportOptions
    from labelapp.services.schema import SchemaReport

IDS_PER_QUERY = 10_000  # ids per IN (...): well below PostgreSQL's and SQLite's parameter limits


@dataclass
class TableRows:
    """A checked table file, to store chunk by chunk: its first row of each item."""

    file: readers.TableFile
    columns: Columns
    known: set[str]
    multi_label: bool
    keep: np.ndarray  # per data row: it is its item's first row, the one stored
    total: int  # data rows
    new: int  # items the file creates (as the project stood when it was checked)
    labeled: int  # kept rows with a label
    confidence: Confidences | None = None
    has_labels: bool = True  # the frames have a labels column (None without a label column)

    @property
    def duplicates_in_file(self) -> int:
        return self.total - int(self.keep.sum())

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The kept rows as the importer stores them (:func:`rows_frame`, and ``confidence``
        with a confidence column), a chunk at a time."""
        for offset, df in self.file.chunks():
            rows = check_rows(  # checked already: only shaped here (no NUL scan)
                df, self.columns, self.known, self.multi_label, RowProblems(), offset, False
            )
            frame = rows_frame(df, self.columns, rows, offset)
            if self.confidence is not None:
                frame["confidence"] = self.confidence.values(df, offset)
            keep = self.keep[offset : offset + len(df)]
            yield frame[keep].reset_index(drop=True)


@dataclass
class CheckedTable:
    rows: TableRows
    label_source: str | None
    schema: SchemaReport


@dataclass
class _Seen:
    """What the first pass keeps of every row, a chunk at a time."""

    labeled: list[np.ndarray] = field(default_factory=list)
    exists: list[np.ndarray] = field(default_factory=list)
    changed: list[np.ndarray] = field(default_factory=list)
    first_changed: tuple[str, int] | None = None  # (id, data row)
    # per float column of the schema's: (missing, whole) per row, for a later import's check
    floats: dict[str, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)


def check_table(
    session: Session,
    project: Project,
    path: Path,
    fmt: str,
    options: ImportOptions,
    name: str,
    progress: Callable[[str, int, int], None],
    row_name: RowName,
    label_source: Callable[[], str | None],
) -> CheckedTable:
    """Check every row of a table file against the project, storing nothing; raises
    :class:`UserError` naming the rows. ``label_source``: where the labels go (its errors come
    after the schema's, as they always have)."""
    progress("read", 0, 1)
    table = readers.open_table(path, fmt)
    progress("read", 1, 1)
    columns = Columns(
        text=options.text_col or "text",
        id=options.id_col or ("id" if "id" in table.columns else None),
        label=options.label_col,
        group=options.group_col,
    )
    check_columns(table.columns, columns, name)
    known = {label.name for label in project.labels}
    problems, keys, seen = RowProblems(), RowKeys(columns.id is not None), _Seen()
    try:
        schema: TableCheck | None = TableCheck(session, project, fmt, name, options.schema)
        mode_error = None
    except UserError as exc:  # reported after the rows' problems, as it always was
        schema, mode_error = None, exc
    confidence = None
    if options.confidence_col and options.confidence_col in table.columns:
        confidence = Confidences(options.confidence_col, name)
    _check_chunks(
        session, project, table, columns, problems, keys, seen, confidence, schema, progress
    )
    total = table.rows or 0
    if total == 0:
        raise UserError(f"{name}: no rows to import")
    keep, conflicts = keys.finish()
    if conflicts:
        assert columns.id is not None
        wanted = [int(rows[0]) for rows in conflicts]
        problems.add_conflicts(conflicts, _ids_at(table, columns.id, wanted).__getitem__, row_name)
    problems.raise_if_any(name, row_name)
    if mode_error is not None:
        raise mode_error
    assert schema is not None
    exists = np.concatenate(seen.exists) if seen.exists else np.zeros(total, dtype=bool)
    new = keep & ~exists
    if not schema.first and new.any():
        _check_new_rows(table, columns, schema, new, seen)
    report = schema.report(row_name)
    source = label_source()
    if options.confidence_col:
        Confidences(options.confidence_col, name).check_column(table.columns)
        assert confidence is not None
        confidence.raise_if_bad(row_name)
    if seen.changed:
        _refuse_changed(name, int((np.concatenate(seen.changed) & keep).sum()), seen)
    progress("validate", total, total)
    labeled = int((np.concatenate(seen.labeled) & keep).sum())
    rows = TableRows(
        table, columns, known, project.multi_label, keep, total, int(new.sum()), labeled, confidence
    )
    return CheckedTable(rows, source, report)


def _check_chunks(
    session: Session,
    project: Project,
    table: readers.TableFile,
    columns: Columns,
    problems: RowProblems,
    keys: RowKeys,
    seen: _Seen,
    confidence: Confidences | None,
    schema: TableCheck | None,
    progress: Callable[[str, int, int], None],
) -> None:
    """The first pass over ``table``, chunk by chunk: each row's problems, its keys, what it
    labels, its confidence, the schema's view of it, and whether it is stored already."""
    known = {label.name for label in project.labels}
    has_items = (
        session.scalar(select(Item.id).where(Item.project_id == project.id).limit(1)) is not None
    )
    estimate = max(table.estimate or 1, 1)
    for offset, df in table.chunks():
        rows = check_rows(
            df, columns, known, project.multi_label, problems, offset, table.may_hold_nul
        )
        keys.add(rows)
        labeled = [x is not None for x in rows.labels] if rows.labels is not None else []
        seen.labeled.append(np.array(labeled, dtype=bool) if labeled else np.zeros(len(df), bool))
        if confidence is not None:
            confidence.values(df, offset)
        if schema is not None:
            covered = schema_frame(df, columns)
            if schema.first:
                schema.add_all(covered)
            else:
                _note_floats(seen, covered, schema)
        if has_items:
            _look_up(session, project.id, rows.external, rows.hashes, offset, seen)
        progress("validate", min(offset + len(df), estimate - 1), estimate)


def _note_floats(seen: _Seen, covered: pd.DataFrame, schema: TableCheck) -> None:
    """A later import: per float column, which values are missing or whole, so that every
    chunk's check types them as the whole column would be (ints with gaps, else floats)."""
    from labelapp.services.schema.kinds import float_facts

    for column in covered.columns:
        if pd.api.types.is_float_dtype(covered[column].dtype):
            seen.floats.setdefault(str(column), []).append(float_facts(covered[column]))


def _check_new_rows(
    table: readers.TableFile, columns: Columns, schema: TableCheck, new: np.ndarray, seen: _Seen
) -> None:
    """The rows that bring new items, against the project schema (a second pass)."""
    from labelapp.services.schema.kinds import whole_with_gaps

    whole = {}
    for column, parts in seen.floats.items():
        missing = np.concatenate([m for m, _ in parts])
        present_whole = np.concatenate([w for _, w in parts])
        if len(missing) == len(new):  # a float column in every chunk
            whole[column] = whole_with_gaps(missing[new], present_whole[new])
    for offset, df in table.chunks():
        local = np.flatnonzero(new[offset : offset + len(df)])
        if len(local):
            covered = schema_frame(df, columns).iloc[local].reset_index(drop=True)
            schema.add_new(covered, offset + local, whole)


def _look_up(
    session: Session,
    project_id: int,
    external: list[str],
    hashes: list[str],
    offset: int,
    seen: _Seen,
) -> None:
    """Which of a chunk's items the project has, and which of those it has with other content."""
    found = existing_items(session, project_id, external)
    exists = np.fromiter((e in found for e in external), dtype=bool, count=len(external))
    changed = np.zeros(len(external), dtype=bool)
    for i in np.flatnonzero(exists):
        changed[i] = found[external[i]][1] != hashes[i]
    if seen.first_changed is None and changed.any():
        i = int(np.argmax(changed))
        seen.first_changed = (external[i], offset + i)
    seen.exists.append(exists)
    seen.changed.append(changed)


def existing_items(
    session: Session, project_id: int, external: list[str]
) -> dict[str, tuple[int, str]]:
    """The project's items among ``external`` ids: id -> (item id, content hash)."""
    wanted = list(dict.fromkeys(external))
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        rows = session.execute(
            select(Item.external_id, Item.id, Item.content_hash).where(
                Item.project_id == project_id,
                Item.external_id.in_(wanted[start : start + IDS_PER_QUERY]),
            )
        )
        found.update({ext: (item_id, h) for ext, item_id, h in rows})
    return found


def refuse_changed(name: str, count: int, first: tuple[str, int]) -> UserError:
    ext, row = first
    return UserError(
        f"{name}: {count} row(s) reuse an existing id with different content "
        f"(first: id {ext!r}, data row {row + 1}); nothing was imported. An id must always "
        "name the same item: give changed items new ids."
    )


def _refuse_changed(name: str, count: int, seen: _Seen) -> None:
    if count and seen.first_changed is not None:
        raise refuse_changed(name, count, seen.first_changed)


def _ids_at(table: readers.TableFile, id_col: str, rows: list[int]) -> dict[int, str]:
    """The (stripped) ids of a few data rows, read again: an error message names them."""
    wanted = sorted(set(rows))
    found: dict[int, str] = {}
    for offset, df in table.chunks():
        local = [r - offset for r in wanted if offset <= r < offset + len(df)]
        if local:
            ids = df[id_col].iloc[local].astype("string").str.strip().fillna("")
            found.update(zip((offset + i for i in local), ids.tolist(), strict=True))
        if len(found) == len(wanted):
            break
    return found
