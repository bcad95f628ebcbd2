"""CSV, JSONL and Parquet writers: one file per split, byte-identical for identical rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
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
# Rows converted at a time by the CSV and JSONL writers (the Parquet writer converts one row group
# at a time): a file of any size holds one chunk's copy, not the whole split's.
WRITE_CHUNK_ROWS = 100_000
Progress = Callable[[int], None] | None


def rows_to_table(rows: pd.DataFrame, schema: pa.Schema | None = None) -> pa.Table:
    """An Arrow table of prepared rows, without pandas metadata (so files do not vary by pandas
    version); ``schema``: the types to convert to (default: inferred from ``rows``)."""
    table = pa.Table.from_pandas(rows, schema=schema, preserve_index=False)
    return table.replace_schema_metadata(None)


def arrow_schema(rows: pd.DataFrame) -> pa.Schema:
    """The schema :func:`rows_to_table` infers for ``rows``, found without converting them: an
    object column's type comes from scanning its values (what a conversion does first)."""
    fields = []
    for field, name in zip(
        pa.Schema.from_pandas(rows.iloc[:0], preserve_index=False), rows.columns, strict=True
    ):
        if rows[name].dtype == object:
            values = rows[name].to_numpy(dtype=object)
            field = field.with_type(pa.infer_type(values, from_pandas=True))
        fields.append(field)
    return pa.schema(fields)


def write_parquet_file(rows: pd.DataFrame, path: Path) -> Path:
    """Write prepared rows to one Parquet file with fixed writer settings.

    One row group is converted and written at a time, with the schema of all rows: the bytes are
    those of writing the whole table at once, and the Arrow copy held is one row group's.
    """
    settings = dict(PARQUET_SETTINGS)
    size = int(settings.pop("row_group_size"))
    if not len(rows):
        pq.write_table(rows_to_table(rows), path, row_group_size=size, **settings)
        return path
    schema = arrow_schema(rows)
    with pq.ParquetWriter(path, schema, **settings) as writer:
        for start in range(0, len(rows), size):
            chunk = rows_to_table(rows.iloc[start : start + size], schema)
            writer.write_table(chunk, row_group_size=size)
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
    for split, part in _split_parts(rows, split_names):
        path = out / f"{split}{suffix}"
        write(part, path)
        paths.append(path)
        if progress:
            progress(len(part))
    return paths


def _split_parts(
    rows: pd.DataFrame, split_names: Sequence[str]
) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each present split's rows, in ``split_names`` order: slices of ``rows`` when they are
    grouped by split in that order (prepared rows are), so no split is copied."""
    codes = pd.Categorical(rows["split"], categories=list(split_names)).codes
    if len(codes) and (codes >= 0).all() and (np.diff(codes) >= 0).all():
        bounds = np.searchsorted(codes, np.arange(len(split_names) + 1))
        for number, split in enumerate(split_names):
            start, stop = int(bounds[number]), int(bounds[number + 1])
            if stop > start:
                yield split, rows.iloc[start:stop].reset_index(drop=True)
        return
    for split in splits_present(rows, split_names):
        yield split, rows[rows["split"] == split].reset_index(drop=True)


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
    """UTF-8, ``\\n`` line ends, metadata as JSON text; written chunk by chunk (each row's text
    depends on that row only, so the bytes are those of one ``to_csv``)."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        for start in range(0, max(len(part), 1), WRITE_CHUNK_ROWS):
            part.iloc[start : start + WRITE_CHUNK_ROWS].to_csv(
                handle, index=False, header=start == 0, lineterminator="\n"
            )


def _write_jsonl_file(part: pd.DataFrame, path: Path) -> None:
    """One JSON object per row, written chunk by chunk."""
    with open(path, "wb") as handle:
        for piece in _jsonl_pieces(part):
            handle.write(piece)


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


def _json_kind(column: pd.Series, raw_json: bool) -> str | None:
    """How a column becomes JSON value texts on Arrow kernels, or ``None`` when its type needs
    the per-row path; decided on the whole column, so every chunk of it takes the same path."""
    if raw_json:
        return (
            "raw" if pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty") else None
        )
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_integer_dtype(column):
        return "integer"
    if pd.api.types.is_float_dtype(column):
        return "float"
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        return "arrow_string"
    if pd.api.types.is_string_dtype(column) and pd.api.types.infer_dtype(column, skipna=True) in (
        "string",
        "empty",
    ):
        return "string"
    return None


def _json_values(column: pd.Series, kind: str) -> pa.Array:
    """A column as JSON value texts, by its :func:`_json_kind`."""
    if kind == "raw":
        return pc.fill_null(
            pa.array(column.to_numpy(dtype=object), pa.large_string(), from_pandas=True), "null"
        )
    if kind == "integer":
        return pc.fill_null(pa.array(column).cast(pa.large_string()), "null")
    if kind == "float":
        array = pa.array(column.to_numpy(dtype="float64"), from_pandas=False)
        finite = pc.is_finite(array)
        return pc.fill_null(pc.if_else(finite, array.cast(pa.large_string()), None), "null")
    if kind == "arrow_string":
        return _json_strings(pa.array(column))  # Arrow-backed already: no conversion
    return _json_strings(
        pa.array(column.to_numpy(dtype=object), pa.large_string(), from_pandas=True)
    )


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
    return b"".join(_jsonl_pieces(part))


def _jsonl_pieces(part: pd.DataFrame) -> Iterator[bytes]:
    """:func:`jsonl_bytes` chunk by chunk (:data:`WRITE_CHUNK_ROWS` rows each)."""
    if not len(part):
        return
    kinds = [_json_kind(part[c], raw_json=c in JSON_OBJECT_COLUMNS) for c in part.columns]
    for start in range(0, len(part), WRITE_CHUNK_ROWS):
        chunk = part.iloc[start : start + WRITE_CHUNK_ROWS]
        yield _jsonl_slow(chunk) if None in kinds else _jsonl_fast(chunk, kinds)


def _jsonl_fast(part: pd.DataFrame, kinds: list[str | None]) -> bytes:
    pieces: list[pa.Array | pa.Scalar] = []
    for number, (column, kind) in enumerate(zip(part.columns, kinds, strict=True)):
        prefix = "{" if number == 0 else ","
        values = _json_values(part[column], str(kind))
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
