"""The JSONL writer escapes every string exactly as JSON requires (hand-written on Arrow
kernels)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from labelapp.export.rows import prepare_rows
from labelapp.export.tabular import jsonl_bytes, read_exported, write_jsonl, write_parquet

TRICKY = [
    "plain",
    'quote " and \\ backslash \\"',
    "controls \x00 \x01 \x1f \n \r \t \b \f end",
    "unicode ça 😀 \u2028 \u2029 /slash/ \ufeff",
    None,
    '{"a":1},{"b":2}\n',
]


@pytest.fixture
def rows() -> pd.DataFrame:
    n = len(TRICKY)
    return pd.DataFrame(
        {
            "item_id": range(n),
            "split": ["train", "dev", "test"] * 2,
            "label": ["a", 'b"', "c\\", "d\n", "e", "f"],
            "label_source": "human",
            "confidence": [1.0, 0.1, np.nan, 1e-20, 0.123456789012345678, np.inf],
            "group_key": [None, "g", "g", None, "x", "y"],
            "text": TRICKY,
            "metadata": [{"k": "v\n"}, None, {"z": [1, 2]}, '{"b": 1, "a": 2}', None, {}],
            "n": range(n),
        }
    )


def test_jsonl_lines_parse_back_to_the_rows(rows):
    prepared = prepare_rows(rows)
    lines = jsonl_bytes(prepared).decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(rows) + 1
    parsed = [json.loads(line) for line in lines[:-1]]
    for record, (_, row) in zip(parsed, prepared.iterrows(), strict=True):
        assert list(record) == list(prepared.columns)
        for column in ("item_id", "label", "text", "group_key"):
            expected = row[column] if isinstance(row[column], str) else None
            assert record[column] == expected, column
        expected_meta = None if row["metadata"] is None else json.loads(row["metadata"])
        assert record["metadata"] == expected_meta
        confidence = row["confidence"]
        assert record["confidence"] == (confidence if np.isfinite(confidence) else None)
        assert record["n"] == row["n"]


def test_jsonl_falls_back_for_unusual_columns(rows):
    prepared = prepare_rows(rows.assign(tags=[["x"], [], None, ["y", "z"], ["w"], []]))
    # split("\n"), not splitlines(): U+2028 inside a string is not a line end.
    parsed = [json.loads(line) for line in jsonl_bytes(prepared).decode().split("\n")[:-1]]
    assert [r["tags"] for r in parsed] == prepared["tags"].tolist()
    assert all(r["confidence"] is None or np.isfinite(r["confidence"]) for r in parsed)


def test_jsonl_and_parquet_round_trip(rows, tmp_path):
    write_jsonl(rows, tmp_path / "j")
    write_parquet(rows, tmp_path / "p")
    from_jsonl = read_exported(tmp_path / "j").sort_values("item_id", key=lambda s: s.astype(int))
    from_parquet = read_exported(tmp_path / "p").sort_values("item_id")
    assert from_jsonl["text"].fillna("-").tolist() == from_parquet["text"].fillna("-").tolist()
    assert [None if pd.isna(t) else t for t in from_parquet["text"]] == TRICKY
