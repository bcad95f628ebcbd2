"""The exported row set: required columns, canonical order, JSON-encoded metadata.

Every writer starts from :func:`prepare_rows`, so identical input gives identical files: rows are
sorted by split (in ``split_names`` order) then item id, columns come in a fixed order, and
metadata is JSON text with sorted keys.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from augment.splits import label_keys

REQUIRED_COLUMNS = ("item_id", "split", "label", "label_source", "confidence")
OPTIONAL_COLUMNS = (
    "group_key",
    "text",
    "image_path",
    "metadata",
    "content_hash",
    "augmented_from",
    "transform_params",
)
SPLIT_NAMES = ("train", "dev", "test")


# One encoder for all rows: json.dumps() with options builds a new encoder on every call.
_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _json_text(value: Any) -> str | None:
    """Canonical JSON text (sorted keys, compact) of a dict/list or of JSON text; None stays
    None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, str):
        return _canonical_text(value)
    return _ENCODER.encode(value)


@functools.lru_cache(maxsize=4096)
def _canonical_text(text: str) -> str:
    """:func:`_json_text` of JSON text; items often share their metadata (``{}`` above all)."""
    return _ENCODER.encode(json.loads(text))


def _json_column(values: list[Any], ids: pd.Series, column: str) -> list[str | None]:
    try:
        return [_json_text(v) for v in values]
    except json.JSONDecodeError:
        for position, value in enumerate(values):
            try:
                _json_text(value)
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"export row for item {ids.iloc[position]!r}: {column} is not valid JSON "
                    f"({exc}); give a dict or JSON text"
                ) from None
        raise


def prepare_rows(rows: pd.DataFrame, *, split_names: Sequence[str] = SPLIT_NAMES) -> pd.DataFrame:
    """Validate ``rows`` and return them in canonical order, ready for any writer.

    Required: ``item_id``, ``split`` (one of ``split_names``), ``label``, ``label_source``,
    ``confidence``. Optional: ``group_key``, ``text``, ``image_path``, ``metadata`` (dict or JSON
    text), ``augmented_from``, ``transform_params`` (dict/list or JSON text). Other columns follow,
    sorted by name.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in rows.columns]
    if missing:
        raise ValueError(
            f"export rows lack columns {missing}; every row needs {list(REQUIRED_COLUMNS)} "
            f"(optional: {list(OPTIONAL_COLUMNS)})"
        )
    unknown = ~rows["split"].isin(list(split_names))
    if unknown.any():
        bad = rows.loc[unknown, ["item_id", "split"]].iloc[0]
        raise ValueError(
            f"export row for item {bad['item_id']!r} has split {bad['split']!r}; "
            f"allowed: {list(split_names)} (assign splits first, drop rows left out)"
        )
    if rows["item_id"].astype(str).duplicated().any():
        dup = rows.loc[rows["item_id"].astype(str).duplicated(), "item_id"].iloc[0]
        raise ValueError(f"export rows hold item id {dup!r} twice; ids must be unique")

    out = rows.copy()
    out["item_id"] = out["item_id"].astype(str)
    out["label"] = label_keys(out["label"])
    if out["label"].isna().any():
        bad = out.loc[out["label"].isna(), "item_id"].iloc[0]
        raise ValueError(f"export row for item {bad!r} has no label; export labeled items only")
    out["label_source"] = out["label_source"].astype(str)
    out["confidence"] = pd.to_numeric(out["confidence"], errors="raise").astype("float64")
    for column in ("metadata", "transform_params"):
        if column in out:
            out[column] = pd.Series(
                _json_column(out[column].tolist(), out["item_id"], column),
                index=out.index,
                dtype=object,
            )
    split_rank = pd.Categorical(out["split"], categories=list(split_names)).codes
    out = (
        out.assign(_rank=split_rank)
        .sort_values(["_rank", "item_id"], kind="stable")
        .drop(columns="_rank")
    )
    out["split"] = out["split"].astype(str)
    ordered = [c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS if c in out.columns]
    extra = sorted(c for c in out.columns if c not in ordered)
    return out[ordered + extra].reset_index(drop=True)


def splits_present(rows: pd.DataFrame, split_names: Sequence[str] = SPLIT_NAMES) -> list[str]:
    """Split names that have at least one row, in canonical order."""
    present = set(rows["split"].unique())
    return [s for s in split_names if s in present]
