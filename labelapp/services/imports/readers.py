"""Read CSV, TSV, JSONL and Parquet into a DataFrame, with row numbers a person can find again."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd

from labelapp.services.errors import UserError

FORMATS = ("csv", "tsv", "jsonl", "parquet", "images", "label_studio")
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The import format: given, a folder of images, or from the file extension."""
    if fmt:
        if fmt not in FORMATS:
            raise UserError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
        return fmt
    if path.is_dir():
        return "images"
    if path.suffix.lower() == ".json" and path.is_file():
        from labelapp.services.imports.label_studio import looks_like_task_list

        if looks_like_task_list(path):
            return "label_studio"
    try:
        return _EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise UserError(
            f"{path.name}: cannot tell the format from the extension {path.suffix!r}; "
            f"use .csv, .tsv, .jsonl, .parquet or .json (Label Studio), or pass --format"
        ) from None


def read_table(path: Path, fmt: str) -> pd.DataFrame:
    """Read a whole file. Failures name the file and, where known, the line."""
    if not path.exists():
        raise UserError(f"{path}: no such file")
    try:
        if fmt in ("csv", "tsv"):
            return _read_delimited(path, "," if fmt == "csv" else "\t")
        if fmt == "jsonl":
            return _read_jsonl(path)
        if fmt == "parquet":
            return pd.read_parquet(path)
    except UserError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path.name}: cannot read as {fmt}: {exc}") from None
    raise UserError(f"{path.name}: format {fmt!r} is not a table")


def _read_delimited(path: Path, sep: str) -> pd.DataFrame:
    try:
        # The pyarrow engine reads 1M rows in about a second; everything as text, nothing as NaN,
        # so '' stays '' and ids like 007 keep their zeros.
        return pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, engine="pyarrow", encoding="utf-8"
        )
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types; re-read to locate it
        return _read_delimited_slowly(path, sep, exc)


def _read_delimited_slowly(path: Path, sep: str, first_error: Exception) -> pd.DataFrame:
    """The csv module, line by line, to say on which line a malformed file goes wrong."""
    with path.open(newline="", encoding="utf-8", errors="strict") as handle:
        reader = csv.reader(handle, delimiter=sep, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise UserError(f"{path.name}: the file is empty; it needs a header line") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise UserError(f"{path.name}: line 1: {exc}") from None
        rows = []
        try:
            for row in reader:
                if len(row) != len(header):
                    raise UserError(
                        f"{path.name}: line {reader.line_num}: {len(row)} fields, but the header "
                        f"has {len(header)}; quote fields that contain {sep!r} or line breaks"
                    )
                rows.append(row)
        except csv.Error as exc:
            raise UserError(f"{path.name}: line {reader.line_num}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise UserError(
                f"{path.name}: not UTF-8 near line {reader.line_num}: {exc.reason}; "
                "save the file as UTF-8"
            ) from None
    if not rows and not header:
        raise UserError(f"{path.name}: could not read: {first_error}")
    return pd.DataFrame(rows, columns=header, dtype=str)


def csv_line_numbers(path: Path, sep: str) -> list[int]:
    """The line on which each data row starts (rows may span lines when quoted)."""
    lines = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=sep)
        next(reader, None)
        start = reader.line_num + 1
        for _ in reader:
            lines.append(start)
            start = reader.line_num + 1
    return lines


def _read_jsonl(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.json as pj

    try:
        table = pj.read_json(path)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return _read_jsonl_slowly(path)
    return table.to_pandas()


def _read_jsonl_slowly(path: Path) -> pd.DataFrame:
    """json.loads line by line: slower, but it can say which line is broken."""
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UserError(
                    f"{path.name}: line {number}: not valid JSON ({exc.msg} at column {exc.colno})"
                ) from None
            if not isinstance(record, dict):
                raise UserError(
                    f"{path.name}: line {number}: expected a JSON object per line, "
                    f"got {type(record).__name__}"
                )
            records.append(record)
    return pd.DataFrame.from_records(records)


def jsonl_line_numbers(path: Path) -> list[int]:
    """The line of each record, skipping blank lines."""
    with path.open(encoding="utf-8") as handle:
        return [n for n, line in enumerate(handle, start=1) if line.strip()]
