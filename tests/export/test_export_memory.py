"""Exports of large projects hold one chunk at a time and read only what can be exported, and
write the same bytes as writing each split in one piece (issue 16)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from augment.splits import assign_splits
from labelapp.export import may_take_part, tabular, write_export
from tests.augment.realdata import youtube_items


@pytest.fixture(scope="module")
def items() -> pd.DataFrame:
    """YouTube spam, a third labeled by a label model; group keys only on some late items, so a
    column is empty in the first chunks and not in later ones."""
    frame = youtube_items()
    rng = np.random.default_rng(3)
    weak = rng.random(len(frame)) < 0.35
    frame["label_source"] = np.where(weak, "label_model", "human")
    frame["confidence"] = np.where(weak, rng.uniform(0.5, 1.0, len(frame)), 1.0)
    late = frame["item_id"].astype(str) > "z"
    frame["group_key"] = np.where(late, "g" + frame["item_id"].str[-1:], None)
    return frame


def one_piece(fmt: str, part: pd.DataFrame, path) -> bytes:
    """What the writers wrote before they wrote in chunks: each split converted at once."""
    if fmt == "parquet":
        pq.write_table(tabular.rows_to_table(part), path, **tabular.PARQUET_SETTINGS)
        return path.read_bytes()
    if fmt == "csv":
        part.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        return path.read_bytes()
    return tabular.jsonl_bytes(part)  # with WRITE_CHUNK_ROWS above the rows: one piece


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_chunked_files_are_the_bytes_of_one_piece_writing(items, tmp_path, monkeypatch, fmt):
    monkeypatch.setattr(tabular, "WRITE_CHUNK_ROWS", 97)
    monkeypatch.setitem(tabular.PARQUET_SETTINGS, "row_group_size", 128)
    out = tmp_path / "out"
    result = write_export(items, fmt, out, seed=2, min_confidence=0.8, code_version="t")
    rows = result.rows
    assert len(rows[rows["split"] == "train"]) > 5 * 128  # several chunks and row groups
    monkeypatch.setattr(tabular, "WRITE_CHUNK_ROWS", 10**9)
    for split in ("train", "dev", "test"):
        part = rows[rows["split"] == split].reset_index(drop=True)
        written = (out / f"{split}.{fmt}").read_bytes()
        assert written == one_piece(fmt, part, tmp_path / f"ref.{fmt}"), split
    if fmt == "parquet":
        train = pq.ParquetFile(out / "train.parquet")
        assert train.metadata.num_row_groups > 5
        assert str(train.schema_arrow.field("group_key").type) in ("string", "large_string")


@pytest.mark.parametrize("min_confidence", [0.0, 0.7, 0.95, 1.0])
def test_items_whose_content_is_left_out_are_never_placed(min_confidence):
    rng = np.random.default_rng(int(min_confidence * 100))
    n = 3000
    sources = np.array(["human", "adjudicated", "corrected", "label_model", "import", None])
    confidence = rng.choice([np.nan, 0.0, 0.5, 0.7, 0.95, 1.0], n)
    items = pd.DataFrame(
        {
            "item_id": np.arange(n),
            "label": rng.choice(["a", "b", "c"], n),
            "label_source": pd.Series(rng.choice(sources, n), dtype=object),
            "confidence": pd.Series(confidence, dtype=object).where(~pd.isna(confidence), None),
            "group_key": rng.choice([None, "x", "y"], n, p=[0.9, 0.05, 0.05]),
        }
    )
    splits = assign_splits(items, random_state=0, min_confidence=min_confidence).splits
    placed = splits.notna().to_numpy()
    allowed = may_take_part(items, min_confidence)
    assert placed.any() and not (placed & ~allowed).any()
    # and it leaves out the weak labels below the minimum: the point of asking it
    weak = items["label_source"].isin(["label_model", "import"]).to_numpy()
    below = pd.to_numeric(items["confidence"]).fillna(0).to_numpy() < min_confidence
    assert (allowed == ~(weak & below)).all()


def test_export_refuses_to_place_an_item_whose_content_was_left_out(items, tmp_path):
    without = np.zeros(len(items), dtype=bool)
    without[np.flatnonzero(items["label_source"] == "human")[0]] = True
    with pytest.raises(RuntimeError, match="content was left out"):
        write_export(items, "csv", tmp_path, min_confidence=0.8, without_content=without)
    assert not list(tmp_path.iterdir())
