"""What each value of an import's column is (null, empty, bool, int, float, str, json), vectorized.

A CSV or TSV is read as text (``''`` for a missing cell), so its values are typed by their
spelling: ``3`` is an int, ``3.0`` a float, ``true`` a bool; an empty cell is a null (a CSV
cannot tell an empty string from a missing value). JSONL and Parquet carry their own types, so
``"3"`` is a str there and ``""`` an empty string, distinct from ``null``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_INT = r"[+-]?\d+"
_FLOAT = r"[+-]?(?:\d+\.\d*|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+|nan|NaN|inf|-inf)"
_BOOL = r"(?i:true|false)"
# Which declared type accepts which kinds of value (an int is a valid float, not the reverse).
ACCEPTS = {
    "int": {"int"},
    "float": {"int", "float"},
    "bool": {"bool"},
    "str": {"str", "empty"},
    "json": {"json"},
    "mixed": {"bool", "int", "float", "str", "empty", "json"},
}


def value_kinds(values: pd.Series, text_file: bool, whole: bool | None = None) -> np.ndarray:
    """The kind of each value of ``values`` (an object array of kind names).

    ``whole``: for a float column read in chunks, whether the whole column holds whole numbers
    with gaps (:func:`whole_with_gaps`), so that every chunk's floats are typed alike."""
    if text_file and (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
        return _spelled_kinds(values.astype("string"))
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return np.where(values.isna().to_numpy(), "null", "bool").astype(object)
    if pd.api.types.is_integer_dtype(dtype):
        return np.where(values.isna().to_numpy(), "null", "int").astype(object)
    if pd.api.types.is_float_dtype(dtype):
        return _float_kinds(values, whole)
    if isinstance(dtype, pd.StringDtype):
        return _string_kinds(values)
    return np.array([_kind(v) for v in values.tolist()], dtype=object)


def _spelled_kinds(text: pd.Series) -> np.ndarray:
    kinds = np.full(len(text), "str", dtype=object)
    stripped = text.str.strip()
    for kind, pattern in (("float", _FLOAT), ("int", _INT), ("bool", _BOOL)):
        kinds[stripped.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)] = kind
    kinds[(text.isna() | (text == "")).to_numpy(dtype=bool)] = "null"
    return kinds


def _string_kinds(text: pd.Series) -> np.ndarray:
    kinds = np.full(len(text), "str", dtype=object)
    kinds[(text == "").fillna(False).to_numpy(dtype=bool)] = "empty"
    kinds[text.isna().to_numpy(dtype=bool)] = "null"
    return kinds


def _float_kinds(values: pd.Series, whole: bool | None = None) -> np.ndarray:
    """Floats, except a column of whole numbers with gaps: pyarrow turns JSON ints with nulls
    into float64 with NaN, so such a column was ints in the file."""
    missing, present_whole = float_facts(values)
    if whole is None:
        whole = whole_with_gaps(missing, present_whole)
    return np.where(missing, "null", "int" if whole else "float").astype(object)


def float_facts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Per value of a float column: is it missing, and is it whole (or missing)."""
    array = values.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(array)
    with np.errstate(invalid="ignore"):
        return missing, missing | (np.mod(array, 1) == 0)


def whole_with_gaps(missing: np.ndarray, present_whole: np.ndarray) -> bool:
    """Whether a float column of these facts (:func:`float_facts`) was ints with gaps."""
    return bool(missing.any()) and bool((~missing).any()) and bool(present_whole.all())


def _kind(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return "null"
    if isinstance(value, bool | np.bool_):
        return "bool"
    if isinstance(value, int | np.integer):
        return "int"
    if isinstance(value, float | np.floating):
        return "float"
    if isinstance(value, str):
        return "empty" if value == "" else "str"
    return "json"


def declared_type(kinds: np.ndarray) -> str:
    """The narrowest declared type that accepts every non-null kind seen."""
    seen = set(np.unique(kinds[kinds != "null"]).tolist()) if len(kinds) else set()
    for name in ("bool", "int", "float", "str", "json"):
        if seen and seen <= ACCEPTS[name]:
            return name
    return "mixed" if seen else "str"


def typed_values(values: pd.Series, kinds: np.ndarray, declared: str) -> pd.Series:
    """``values`` as the declared type's pandas dtype; values of another kind become <NA>."""
    ok = np.isin(kinds, list(ACCEPTS[declared]))
    index = values.index
    if declared in ("int", "float"):
        numbers = pd.to_numeric(values.where(ok, None), errors="coerce")
        return pd.Series(numbers, index=index).astype("Int64" if declared == "int" else "Float64")
    if declared == "bool":
        text = values.astype("string").str.strip().str.lower()
        mapped = text.map({"true": True, "false": False}).where(ok, None)
        return mapped.astype("boolean")
    if declared == "str":
        return values.astype("string").where(ok, None)
    return values.where(ok, None).astype(object)
