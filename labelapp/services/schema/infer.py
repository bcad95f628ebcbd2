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

from labelapp.services.schema.kinds import declared_type, value_kinds
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
    columns = {
        str(name): _infer_column(frame[name], str(name), text_file, repeat)
        for name in frame.columns
    }
    return {"schema_type": "dataframe", "api": "pandas", "columns": columns, "strict": True}


def _infer_column(values: pd.Series, name: str, text_file: bool, repeat: int) -> dict[str, Any]:
    if name in IMAGE_COLUMNS:
        return _image_column(values, name)
    kinds = value_kinds(values, text_file and name != TEXT_COLUMN)
    declared = "str" if name == TEXT_COLUMN else declared_type(kinds)
    column: dict[str, Any] = {
        "dtype": DTYPES[declared],
        "nullable": bool((kinds == "null").any()),
        "required": True,
    }
    present = values[kinds != "null"]
    if declared in ("int", "float") and len(present):
        numbers = pd.to_numeric(present, errors="coerce").dropna()
        finite = numbers[np.isfinite(numbers.astype(float))]
        if len(finite):
            low, high = finite.min(), finite.max()
            cast = int if declared == "int" else float
            column["in_range"] = {
                "min_value": cast(low),
                "max_value": cast(high),
                "include_min": True,
                "include_max": True,
            }
    elif declared == "str":
        text = present.astype(str)
        if name == TEXT_COLUMN:
            longest = int(text.str.len().max()) if len(text) else 0
            column["str_length"] = {
                "min_value": 1,
                "max_value": max(1, longest) * TEXT_LENGTH_SLACK,
            }
        else:
            distinct = text.unique()
            if 0 < len(distinct) <= MAX_CATEGORIES and len(text) >= repeat * len(distinct):
                column["isin"] = sorted(distinct.tolist())
            if not (kinds == "empty").any():
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
