"""CSV, JSONL and Parquet writers: one file per split, byte-identical for identical rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from labelapp.export.rows import SPLIT_NAMES, prepare_rows, splits_present

PARQUET_SETTINGS = {
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "row_group_size": 131_072,
    "version": "2.6",
    "data_page_version": "1.0",
}
JSON_OBJECT_COLUMNS = ("metadata", "transform_params")
Progress = Callable[[int], None] | None


def rows_to_table(rows: pd.DataFrame) -> pa.Table:
    """An Arrow table of prepared rows, without pandas metadata (so files do not vary by pandas version)."""
    table = pa.Table.from_pandas(rows, preserve_index=False)
    return table.replace_schema_metadata(None)


def write_parquet_file(rows: pd.DataFrame, path: Path) -> Path:
    """Write prepared rows to one Parquet file with fixed writer settings."""
    pq.write_table(rows_to_table(rows), path, **PARQUET_SETTINGS)
    return path


def _per_split(
    rows: pd.DataFrame,
    out_dir: str | Path,
    suffix: str,
    write: Callable[[pd.DataFrame, Path], None],
    split_names: Sequence[str],
    progress: Progress,
    prepared: bool,
) -> list[Path]:
    if not prepared:
        rows = prepare_rows(rows, split_names=split_names)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for split in splits_present(rows, split_names):
        part = rows[rows["split"] == split].reset_index(drop=True)
        path = out / f"{split}{suffix}"
        write(part, path)
        paths.append(path)
        if progress:
            progress(len(part))
    return paths


def write_parquet(
    rows: pd.DataFrame,
    out_dir: str | Path,
    *,
    split_names: Sequence[str] = SPLIT_NAMES,
    progress: Progress = None,
    prepared: bool = False,
) -> list[Path]:
    """Write ``<split>.parquet`` per split; returns the paths. ``progress(n)`` is called per file.

    ``prepared=True`` skips :func:`~labelapp.export.rows.prepare_rows` (rows already from it).
    """
    return _per_split(
        rows, out_dir, ".parquet", write_parquet_file, split_names, progress, prepared
    )


def write_csv(
    rows: pd.DataFrame,
    out_dir: str | Path,
    *,
    split_names: Sequence[str] = SPLIT_NAMES,
    progress: Progress = None,
    prepared: bool = False,
) -> list[Path]:
    """Write ``<split>.csv`` per split (UTF-8, ``\\n`` line ends, metadata as JSON text)."""

    def write(part: pd.DataFrame, path: Path) -> None:
        part.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")

    return _per_split(rows, out_dir, ".csv", write, split_names, progress, prepared)


def _jsonl_lines(part: pd.DataFrame) -> str:
    """JSON Lines with metadata/transform params as nested objects, not strings."""
    object_columns = [c for c in JSON_OBJECT_COLUMNS if c in part]
    text_columns = [
        c for c in part.columns if part[c].dtype == object or pd.api.types.is_string_dtype(part[c])
    ]
    if object_columns and any(
        part[c].astype("string").str.contains("\x00", regex=False).any() for c in text_columns
    ):
        # A NUL character could collide with the splice markers below: take the slow, exact path.
        records = part.astype(object).where(part.notna(), None).to_dict(orient="records")
        for record in records:
            for column in object_columns:
                if record[column] is not None:
                    record[column] = json.loads(record[column])
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    placeholders = {c: f"\x00{c}\x00" for c in object_columns}
    plain = part.assign(**{c: placeholders[c] for c in object_columns})
    text = plain.to_json(orient="records", lines=True, force_ascii=False, double_precision=15)
    if not object_columns:
        return text
    # pandas writes records in C; splice the JSON objects in afterwards instead of parsing each one.
    # Split on "\n" only: str.splitlines() would also cut at U+2028 and friends inside strings.
    lines = text.rstrip("\n").split("\n") if len(part) else []
    for column in object_columns:
        marker = json.dumps(placeholders[column])
        values = [v if isinstance(v, str) else "null" for v in part[column]]
        lines = [line.replace(marker, value, 1) for line, value in zip(lines, values, strict=True)]
    return "\n".join(lines) + "\n"


def write_jsonl(
    rows: pd.DataFrame,
    out_dir: str | Path,
    *,
    split_names: Sequence[str] = SPLIT_NAMES,
    progress: Progress = None,
    prepared: bool = False,
) -> list[Path]:
    """Write ``<split>.jsonl`` per split, one JSON object per row."""

    def write(part: pd.DataFrame, path: Path) -> None:
        path.write_text(_jsonl_lines(part), encoding="utf-8")

    return _per_split(rows, out_dir, ".jsonl", write, split_names, progress, prepared)


def read_exported(path: str | Path) -> pd.DataFrame:
    """Read back the rows of an export folder of Parquet, JSONL or CSV files (all splits)."""
    folder = Path(path)
    for suffix, reader in (
        (".parquet", pd.read_parquet),
        (".jsonl", _read_jsonl),
        (".csv", pd.read_csv),
    ):
        files = sorted(folder.glob(f"*{suffix}")) or sorted(folder.glob(f"data/*{suffix}"))
        if files:
            return pd.concat([reader(f) for f in files], ignore_index=True)
    raise FileNotFoundError(f"no .parquet, .jsonl or .csv export files in {folder}")


def _read_jsonl(path: Path) -> pd.DataFrame:
    frame = pd.read_json(path, lines=True, dtype=False)
    for column in JSON_OBJECT_COLUMNS:
        if column in frame:
            frame[column] = [
                None
                if v is None or v != v
                else json.dumps(v, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
                for v in frame[column]
            ]
    return frame
