"""CSV, JSONL and Parquet writers: one file per split, byte-identical for identical rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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
    """An Arrow table of prepared rows, without pandas metadata (so files do not vary by pandas
    version)."""
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
    write: Callable[[pd.DataFrame, Path], object],
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


class SplitWriter(Protocol):
    """Writes ``<split><suffix>`` per split of ``rows`` into ``out_dir``; returns the paths.
    ``progress(n)`` is called per file; ``prepared=True`` skips
    :func:`~labelapp.export.rows.prepare_rows` (rows already from it)."""

    def __call__(
        self,
        rows: pd.DataFrame,
        out_dir: str | Path,
        *,
        split_names: Sequence[str] = SPLIT_NAMES,
        progress: Progress = None,
        prepared: bool = False,
    ) -> list[Path]: ...


def _split_writer(suffix: str, write: Callable[[pd.DataFrame, Path], object]) -> SplitWriter:
    """The :class:`SplitWriter` that writes each split's rows with ``write(part, path)``."""

    def write_splits(
        rows: pd.DataFrame,
        out_dir: str | Path,
        *,
        split_names: Sequence[str] = SPLIT_NAMES,
        progress: Progress = None,
        prepared: bool = False,
    ) -> list[Path]:
        return _per_split(rows, out_dir, suffix, write, split_names, progress, prepared)

    write_splits.__doc__ = f"Write ``<split>{suffix}`` per split; returns the paths."
    return write_splits


def _write_csv_file(part: pd.DataFrame, path: Path) -> None:
    """UTF-8, ``\\n`` line ends, metadata as JSON text."""
    part.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")


def _write_jsonl_file(part: pd.DataFrame, path: Path) -> None:
    """One JSON object per row."""
    path.write_bytes(jsonl_bytes(part))


_JSON_ESCAPES = {"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, pa.large_string())


def _json_strings(values: pa.Array) -> pa.Array:
    """Each string as a JSON string literal (RFC 8259 escaping), nulls as ``null``.

    Arrow's kernels run over the whole column at once; a per-row ``json.dumps`` costs seconds
    per million rows, and pandas' ``to_json`` (which also escapes ``/``) about as much.
    """
    values = values.cast(pa.large_string())
    for char, escaped in (("\\", "\\\\"), ('"', '\\"')):
        if pc.any(pc.match_substring(values, char)).as_py():  # a scan is cheaper than a copy
            values = pc.replace_substring(values, char, escaped)
    if pc.any(pc.match_substring_regex(values, "[\\x00-\\x1f]")).as_py():
        for code in range(32):
            char = chr(code)
            escaped = _JSON_ESCAPES.get(char, f"\\u{code:04x}")
            values = pc.replace_substring(values, char, escaped)
    quote = _text('"')
    quoted = pc.binary_join_element_wise(quote, values, quote, _text(""))
    return pc.fill_null(quoted, "null")


def _json_values(column: pd.Series, raw_json: bool) -> pa.Array | None:
    """A column as JSON value texts, or ``None`` when its type needs the per-row path."""
    if raw_json:
        if pd.api.types.infer_dtype(column, skipna=True) not in ("string", "empty"):
            return None
        return pc.fill_null(
            pa.array(column.to_numpy(dtype=object), pa.large_string(), from_pandas=True), "null"
        )
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_integer_dtype(column):
        return pc.fill_null(pa.array(column).cast(pa.large_string()), "null")
    if pd.api.types.is_float_dtype(column):
        array = pa.array(column.to_numpy(dtype="float64"), from_pandas=False)
        finite = pc.is_finite(array)
        return pc.fill_null(pc.if_else(finite, array.cast(pa.large_string()), None), "null")
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        return _json_strings(pa.array(column))  # Arrow-backed already: no conversion
    if pd.api.types.is_string_dtype(column) and pd.api.types.infer_dtype(column, skipna=True) in (
        "string",
        "empty",
    ):
        return _json_strings(
            pa.array(column.to_numpy(dtype=object), pa.large_string(), from_pandas=True)
        )
    return None


def _jsonl_slow(part: pd.DataFrame) -> bytes:
    finite = part.replace([np.inf, -np.inf], np.nan)
    records = finite.astype(object).where(finite.notna(), None).to_dict(orient="records")
    for record in records:
        for column in JSON_OBJECT_COLUMNS:
            if record.get(column) is not None:
                record[column] = json.loads(record[column])
    text = "".join(json.dumps(r, ensure_ascii=False, default=str) + "\n" for r in records)
    return text.encode("utf-8")


def jsonl_bytes(part: pd.DataFrame) -> bytes:
    """Prepared rows as JSON Lines: one object per row, keys in column order, metadata and
    transform params as nested objects, NaN as ``null``."""
    if not len(part):
        return b""
    pieces: list[pa.Array | pa.Scalar] = []
    for number, column in enumerate(part.columns):
        values = _json_values(part[column], raw_json=column in JSON_OBJECT_COLUMNS)
        if values is None:
            return _jsonl_slow(part)
        prefix = "{" if number == 0 else ","
        pieces += [_text(prefix + json.dumps(str(column), ensure_ascii=False) + ":"), values]
    lines = pc.binary_join_element_wise(*pieces, _text("}\n"), _text(""))
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    data = lines.buffers()[2]
    start, stop = offsets[lines.offset], offsets[lines.offset + len(lines)]
    return bytes(memoryview(data)[start:stop])


write_parquet = _split_writer(".parquet", write_parquet_file)
write_csv = _split_writer(".csv", _write_csv_file)
write_jsonl = _split_writer(".jsonl", _write_jsonl_file)


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
