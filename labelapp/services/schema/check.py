"""Check an import's columns against a project schema: every problem per column, with counts
and the first rows, so the admin can fix the file or accept it as the schema's next version."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from labelapp.services.schema.infer import to_pandera
from labelapp.services.schema.kinds import ACCEPTS, typed_values, value_kinds
from labelapp.services.schema.names import (
    BLOCKING,
    IMAGE_COLUMNS,
    IMAGE_MODE_COLUMN,
    IMAGE_SIZE_COLUMNS,
    PROBLEM_KINDS,
    TEXT_COLUMN,
    type_of,
)

FIRST_ROWS = 5


@dataclass
class Problem:
    """One kind of problem in one column: how many rows, the first of them, an example."""

    column: str
    kind: str
    count: int
    rows: list[int] = field(default_factory=list)  # 0-based data rows
    message: str = ""

    @property
    def blocking(self) -> bool:
        return self.kind in BLOCKING

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "blocking": self.blocking}


def check_frame(
    schema: dict[str, Any],
    frame: pd.DataFrame,
    text_file: bool,
    whole: dict[str, bool] | None = None,
) -> list[Problem]:
    """Every problem of ``frame`` (RangeIndex) against ``schema``, column by column."""
    check = FrameCheck(schema, text_file, whole)
    check.add(frame)
    return check.problems()


@dataclass
class _Found:
    """One problem as found so far, before its message is written: counted over the chunks
    seen, with its first rows and the first value that shows it."""

    column: str
    kind: str  # missing, new, kind (another type or an empty string), check (pandera's)
    count: int
    rows: list[int]
    example: Any = None
    detail: Any = None  # the declared type; with kind problems the value kind; the check
    all_empty: bool = True  # (a length check) every value found was the empty string


class FrameCheck:
    """:func:`check_frame` over a table read in chunks: each problem counted over every chunk
    and listing its first rows, in the order one check of the whole table lists them.

    ``whole``: per float column, whether the whole table's column is whole numbers with gaps
    (:func:`~labelapp.services.schema.kinds.whole_with_gaps`): its values are ints then."""

    def __init__(
        self, schema: dict[str, Any], text_file: bool, whole: dict[str, bool] | None = None
    ) -> None:
        self.schema, self.text_file, self.whole = schema, text_file, whole or {}
        self.found: dict[tuple, _Found] = {}
        self._validator: tuple[tuple[str, ...], Any] | None = None

    def add(self, frame: pd.DataFrame, rows: np.ndarray | None = None) -> None:
        """Check ``frame``; ``rows``: the table's row of each of its rows (default 0, 1, ...)."""
        frame = frame.reset_index(drop=True)
        rows = np.arange(len(frame)) if rows is None else np.asarray(rows)
        declared = self.schema.get("columns", {})
        for i, (name, spec) in enumerate(declared.items()):
            if name not in frame.columns and spec.get("required", True):
                self._note((0, i), _Found(name, "missing", len(frame), [], detail=type_of(spec)))
        if self.schema.get("strict", True):
            for j, name in enumerate(frame.columns):
                if name not in declared:
                    filled = np.flatnonzero(value_kinds(frame[name], self.text_file) != "null")
                    self._note((1, j), _Found(name, "new", len(filled), _first(rows[filled])))
        present = [c for c in frame.columns if c in declared]
        typed, skip = {}, {}
        for j, name in enumerate(present):
            kind_of = type_of(declared[name])
            spelled = self.text_file and name != TEXT_COLUMN
            kinds = value_kinds(frame[name], spelled, self.whole.get(name))
            bad = ~np.isin(kinds, [*ACCEPTS[kind_of], "null"])
            for kind in sorted(set(kinds[bad].tolist())):
                where = np.flatnonzero(kinds == kind)
                example = frame[name].iloc[int(where[0])]
                found = _Found(name, "kind", len(where), _first(rows[where]), example)
                found.detail = (kind_of, kind)
                self._note((2, j, kind), found)
            typed[name] = typed_values(frame[name], kinds, kind_of)
            skip[name] = bad
        if present:
            self._check(pd.DataFrame(typed, index=frame.index), skip, rows)

    def _check(self, typed: pd.DataFrame, skip: dict[str, np.ndarray], rows: np.ndarray) -> None:
        """Nullability, range, allowed set and length, checked by pandera on the typed values."""
        import pandera.errors as pe

        columns = tuple(typed.columns)
        if self._validator is None or self._validator[0] != columns:
            self._validator = (columns, to_pandera(self.schema, list(columns)))
        try:
            self._validator[1].validate(typed, lazy=True)
            return
        except pe.SchemaErrors as exc:
            cases = exc.failure_cases
        cases = cases[cases["column"].notna() & cases["index"].notna()]
        for (column, check), group in cases.groupby(["column", "check"], sort=True):
            where = np.unique(group["index"].astype(int).to_numpy())
            where = where[~skip[column][where]]  # already reported as another type
            if len(where) == 0:
                continue
            values = typed[column]
            example = values.iloc[int(where[0])]
            example = example.item() if isinstance(example, np.generic) else example
            found = _Found(str(column), "check", len(where), _first(rows[where]), example)
            found.detail = str(check)
            if str(check).startswith("str_length") and column != TEXT_COLUMN:
                found.all_empty = bool((values.iloc[where] == "").all())
            self._note((3, str(column), str(check)), found)

    def _note(self, key: tuple, found: _Found) -> None:
        seen = self.found.get(key)
        if seen is None:
            self.found[key] = found
            return
        seen.count += found.count
        seen.rows = (seen.rows + found.rows)[:FIRST_ROWS]
        seen.all_empty = seen.all_empty and found.all_empty

    def problems(self) -> list[Problem]:
        """The problems found in every chunk added so far."""
        return [_problem(self.found[key]) for key in sorted(self.found)]


def _problem(found: _Found) -> Problem:
    name, count, rows = found.column, found.count, found.rows
    if found.kind == "missing":
        message = f"column {name!r} ({found.detail}) is missing from the file"
        return Problem(name, "missing_column", count, [], message)
    if found.kind == "new":
        return Problem(name, "new_column", count, rows, f"column {name!r} is not in the schema")
    if found.kind == "kind":
        declared, kind = found.detail
        if kind == "empty":
            return Problem(
                name,
                "empty_string",
                count,
                rows,
                f"{count} empty string(s) in {declared} column {name!r}; "
                "the schema has nulls, not empty strings, there",
            )
        return Problem(
            name,
            "type",
            count,
            rows,
            f"{count} {kind} value(s) in {declared} column {name!r} (e.g. {found.example!r})",
        )
    return _from_check(name, found.detail, count, rows, found.example, found.all_empty)


def _from_check(
    column: str, check: str, count: int, rows: list[int], example: Any, all_empty: bool
) -> Problem:
    if check == "not_nullable":
        kind, what = "null", "null (missing) value(s) where the schema allows none"
    elif check.startswith("in_range") and column in IMAGE_SIZE_COLUMNS:
        kind = "out_of_range"
        what = (
            f"image(s) of a {IMAGE_COLUMNS[column]} outside {check[8:]} pixels (e.g. {example!r}), "
            "far from the sizes seen"
        )
    elif check.startswith("in_range"):
        kind, what = "out_of_range", f"value(s) outside the range {check[8:]} (e.g. {example!r})"
    elif check.startswith("isin") and column in IMAGE_COLUMNS:
        kind = "image_mode" if column == IMAGE_MODE_COLUMN else "new_value"
        what = f"image(s) of a {IMAGE_COLUMNS[column]} the schema has not seen (e.g. {example!r})"
    elif check.startswith("isin"):
        kind, what = "new_value", f"value(s) outside the allowed set (e.g. {example!r})"
    elif column != TEXT_COLUMN and all_empty:
        kind, what = "empty_string", "empty string(s) where the schema has none (it had nulls)"
    else:
        kind, what = "length", f"text(s) of a length outside {check[10:]}"
    if column in IMAGE_COLUMNS:
        return Problem(column, kind, count, rows, f"{count} {what}")
    where = "the text" if column == TEXT_COLUMN else f"column {column!r}"
    return Problem(column, kind, count, rows, f"{count} {what} in {where}")


def _first(rows: np.ndarray) -> list[int]:
    return [int(r) for r in rows[:FIRST_ROWS]]


def describe(kind: str) -> str:
    """What a problem kind means, for reports and pages."""
    return PROBLEM_KINDS[kind]
