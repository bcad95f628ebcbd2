"""Infer a project schema from an import, and widen it to take in a later one (``evolve``).

A schema is pandera's own JSON form of a ``DataFrameSchema`` (``schema.to_json()``, read back
with :func:`to_pandera`), so an admin edits, and the database stores, exactly what pandera
validates: per column a dtype, ``nullable``, ``required`` and the checks ``in_range``, ``isin``
and ``str_length``. The item's text is the column :data:`TEXT_COLUMN`.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from labelapp.services.schema.kinds import declared_type, float_facts, value_kinds
from labelapp.services.schema.names import (
    DTYPES,
    IMAGE_COLUMNS,
    IMAGE_SIZE_COLUMNS,
    IMAGE_SIZE_SLACK,
    TEXT_COLUMN,
    type_of,
)

MAX_CATEGORIES = 20  # a str column with at most this many values (each seen twice) is a set
TEXT_LENGTH_SLACK = 4  # texts up to 4x the longest seen pass; longer ones are "far outside"


def infer_schema(frame: pd.DataFrame, text_file: bool, repeat: int = 2) -> dict[str, Any]:
    """The schema (pandera JSON as a dict) of ``frame``'s columns, all required. A str column
    with at most :data:`MAX_CATEGORIES` values, each seen ``repeat`` times on average, is a set
    (``repeat=1`` when the schema evolves: a small file keeps the set open to its values)."""
    return SchemaSummary(text_file, repeat).add(frame).schema()


class SchemaSummary:
    """What :func:`infer_schema` needs of a table, gathered chunk by chunk (a table read in
    parts infers the schema its whole would): per column the kinds seen, whether a null was,
    the range of its numbers, its longest text and its first distinct values."""

    def __init__(self, text_file: bool, repeat: int = 2) -> None:
        self.text_file, self.repeat = text_file, repeat
        self.columns: dict[str, _ColumnSummary | list[pd.Series]] = {}

    def add(self, frame: pd.DataFrame) -> SchemaSummary:
        for name in frame.columns:
            key = str(name)
            if key in IMAGE_COLUMNS:  # an image folder's properties: read whole, never in parts
                parts = self.columns.setdefault(key, [])
                assert isinstance(parts, list)
                parts.append(frame[name])
                continue
            summary = self.columns.get(key)
            if summary is None:
                summary = self.columns[key] = _ColumnSummary(key, self.text_file)
            assert isinstance(summary, _ColumnSummary)
            summary.add(frame[name])
        return self

    def schema(self) -> dict[str, Any]:
        columns = {
            name: _image_column(pd.concat(summary, ignore_index=True), name)
            if isinstance(summary, list)
            else summary.column(self.repeat)
            for name, summary in self.columns.items()
        }
        return {"schema_type": "dataframe", "api": "pandas", "columns": columns, "strict": True}


class _ColumnSummary:
    """One column's part of a :class:`SchemaSummary`."""

    def __init__(self, name: str, text_file: bool) -> None:
        self.name = name
        self.spelled = text_file and name != TEXT_COLUMN
        self.kinds: set[str] = set()  # kinds of the values present, float columns' aside
        self.nulls = False
        # A float column's values are ints when the whole column is whole numbers with gaps.
        self.floats = self.missing = self.present = False
        self.whole = True
        self.low: Any = None
        self.high: Any = None
        self.longest = 0
        self.distinct: set[str] | None = set()  # None: more than MAX_CATEGORIES
        self.texts = 0
        self.empty = False

    def add(self, values: pd.Series) -> None:
        if pd.api.types.is_float_dtype(values.dtype):
            missing, whole = float_facts(values)
            self.floats = True
            self.missing = self.missing or bool(missing.any())
            self.present = self.present or bool((~missing).any())
            self.whole = self.whole and bool(whole.all())
            kinds = np.where(missing, "null", "float").astype(object)
            seen = {"float"} if (~missing).any() else set()
        else:
            kinds = value_kinds(values, self.spelled)
            seen = set(np.unique(kinds[kinds != "null"]).tolist())
            self.kinds |= seen
        null = kinds == "null"
        self.nulls = self.nulls or bool(null.any())
        present = values[~null]
        if not len(present):
            return
        if seen <= {"int", "float"}:  # a number column, if the other chunks agree
            numbers = pd.to_numeric(present, errors="coerce").dropna()
            finite = numbers[np.isfinite(numbers.astype(float))]
            if len(finite):
                low, high = finite.min(), finite.max()
                self.low = low if self.low is None else min(self.low, low)
                self.high = high if self.high is None else max(self.high, high)
        if self.name == TEXT_COLUMN:
            self.longest = max(self.longest, int(present.astype(str).str.len().max()))
        elif seen <= {"str", "empty"}:  # a str column, if the other chunks agree
            self.texts += len(present)
            self.empty = self.empty or "empty" in seen
            if self.distinct is not None:
                self.distinct.update(present.astype(str).unique().tolist())
                if len(self.distinct) > MAX_CATEGORIES:
                    self.distinct = None

    def column(self, repeat: int) -> dict[str, Any]:
        kinds = set(self.kinds)
        if self.floats and self.present:
            kinds.add("int" if self.missing and self.whole else "float")
        if self.name == TEXT_COLUMN:
            declared = "str"
        else:
            declared = declared_type(np.array(sorted(kinds), dtype=object))
        column: dict[str, Any] = {
            "dtype": DTYPES[declared],
            "nullable": self.nulls,
            "required": True,
        }
        if declared in ("int", "float") and self.low is not None:
            cast = int if declared == "int" else float
            column["in_range"] = {
                "min_value": cast(self.low),
                "max_value": cast(self.high),
                "include_min": True,
                "include_max": True,
            }
        elif declared == "str" and self.name == TEXT_COLUMN:
            column["str_length"] = {
                "min_value": 1,
                "max_value": max(1, self.longest) * TEXT_LENGTH_SLACK,
            }
        elif declared == "str":
            distinct = self.distinct or set()
            if 0 < len(distinct) <= MAX_CATEGORIES and self.texts >= repeat * len(distinct):
                column["isin"] = sorted(distinct)
            if not self.empty:
                column["str_length"] = {"min_value": 1, "max_value": None}
        return column


def _image_column(values: pd.Series, name: str) -> dict[str, Any]:
    """An image property: a size accepts :data:`IMAGE_SIZE_SLACK` times below the smallest and
    above the largest seen; a mode or format is one of those seen, whatever their number."""
    present = values.dropna()
    column: dict[str, Any] = {"nullable": False, "required": True}
    if name in IMAGE_SIZE_COLUMNS:
        sizes = present.astype(int)
        low, high = (int(sizes.min()), int(sizes.max())) if len(sizes) else (1, 1)
        column["dtype"] = DTYPES["int"]
        column["in_range"] = {
            "min_value": max(1, low // IMAGE_SIZE_SLACK),
            "max_value": high * IMAGE_SIZE_SLACK,
            "include_min": True,
            "include_max": True,
        }
    else:
        column["dtype"] = DTYPES["str"]
        column["isin"] = sorted(present.astype(str).unique().tolist())
    return column


def evolve_schema(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """A schema that accepts what ``old`` and ``new`` accept: types widened, ranges and sets
    joined, columns present in only one of them made optional."""
    merged: dict[str, Any] = {}
    before, after = old.get("columns", {}), new.get("columns", {})
    for name in [*before, *(n for n in after if n not in before)]:
        if name in before and name in after:
            merged[name] = _join(before[name], after[name], name)
        else:
            merged[name] = {**(before.get(name) or after[name]), "required": False}
    return {**old, "columns": merged}


def _join(a: dict[str, Any], b: dict[str, Any], name: str) -> dict[str, Any]:
    kinds = {type_of(a), type_of(b)}
    declared = (
        kinds.pop() if len(kinds) == 1 else ("float" if kinds == {"int", "float"} else "mixed")
    )
    column: dict[str, Any] = {
        "dtype": DTYPES[declared],
        "nullable": a.get("nullable", False) or b.get("nullable", False),
        "required": a.get("required", True) and b.get("required", True),
    }
    if declared in ("int", "float") and "in_range" in a and "in_range" in b:
        low = min(a["in_range"]["min_value"], b["in_range"]["min_value"])
        high = max(a["in_range"]["max_value"], b["in_range"]["max_value"])
        column["in_range"] = {**a["in_range"], "min_value": low, "max_value": high}
    if declared == "str" and "isin" in a and "isin" in b:
        values = sorted(set(a["isin"]) | set(b["isin"]))
        if len(values) <= MAX_CATEGORIES or name in IMAGE_COLUMNS:
            column["isin"] = values
    if declared == "str" and "str_length" in a and "str_length" in b:
        column["str_length"] = {
            "min_value": min(a["str_length"]["min_value"] or 0, b["str_length"]["min_value"] or 0),
            "max_value": _larger(
                a["str_length"].get("max_value"), b["str_length"].get("max_value")
            ),
        }
    return column


def _larger(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else max(a, b)


def to_pandera(schema: dict[str, Any], columns: list[str] | None = None) -> Any:
    """The pandera ``DataFrameSchema`` of ``schema`` (only ``columns``, when given)."""
    import pandera.pandas as pa

    kept = dict(schema)
    if columns is not None:
        kept["columns"] = {c: v for c, v in schema["columns"].items() if c in columns}
        kept["strict"] = False
    return pa.DataFrameSchema.from_json(json.dumps(kept, default=_json_default))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a schema")
