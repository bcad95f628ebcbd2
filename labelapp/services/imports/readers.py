"""Read CSV, TSV, JSONL and Parquet into a DataFrame, with row numbers a person can find again."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from labelapp.formats import IMPORT_FORMATS as FORMATS
from labelapp.formats import TABLE_SUFFIXES as _EXTENSIONS
from labelapp.services.errors import UserError


def looks_like_task_list(path: Path) -> bool:
    """True when a ``.json`` file starts with ``[`` (a Label Studio export), not ``{`` (JSONL)."""
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] == b"["


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The import format: given, a folder of images, or from the file extension."""
    if fmt:
        if fmt not in FORMATS:
            raise UserError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
        return fmt
    if path.is_dir():
        return "images"
    if path.suffix.lower() == ".json" and path.is_file() and looks_like_task_list(path):
        return "label_studio"
    try:
        return _EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise UserError(
            f"{path.name}: cannot tell the format from the extension {path.suffix!r}; "
            f"use .csv, .tsv, .jsonl, .parquet or .json (Label Studio), or pass --format"
        ) from None


SCAN_CHUNK_BYTES = 8 * 1024**2


@dataclass
class TextScan:
    """What one streaming pass over a text file's bytes found (it is valid UTF-8 by then)."""

    quotes: int  # '"' characters: an odd count means a quoted field never closes
    may_hold_nul: bool  # a NUL byte, or JSON's escaped "\u0000"


def scan_text(path: Path, name: str) -> TextScan:
    """Check ``path`` is UTF-8, in chunks (never the whole file in memory), and count what the
    parsers cannot be trusted to report: quotes and NUL bytes. Vectorized bytes operations only:
    about 0.1 s for a million rows."""
    newlines, quotes, nul, line_start, offset = 0, 0, False, 0, 0
    tail = b""
    with path.open("rb") as handle:
        while True:
            block = handle.read(SCAN_CHUNK_BYTES)
            data = tail + block
            if not data:
                break
            try:
                data.decode("utf-8")
                good, tail = data, b""
            except UnicodeDecodeError as exc:
                cut_sequence = exc.reason == "unexpected end of data" and len(data) - exc.start < 4
                if not (block and cut_sequence):
                    before = data[: exc.start]
                    last_newline = before.rfind(b"\n")
                    start = offset + last_newline + 1 if last_newline >= 0 else line_start
                    column = offset + exc.start - start + 1
                    line = newlines + before.count(b"\n") + 1
                    raise UserError(
                        f"{name}: line {line}: not UTF-8 (byte "
                        f"0x{data[exc.start]:02x} at byte {column} of the line); save the file "
                        "as UTF-8 and import it again"
                    ) from None
                good, tail = data[: exc.start], data[exc.start :]  # a character cut by the chunk
            newlines += good.count(b"\n")
            quotes += good.count(b'"')
            nul = nul or b"\x00" in good or b"\\u0000" in good
            last_newline = good.rfind(b"\n")
            if last_newline >= 0:
                line_start = offset + last_newline + 1
            offset += len(good)
            if not block:
                break
    return TextScan(quotes=quotes, may_hold_nul=nul)


def read_table(path: Path, fmt: str) -> pd.DataFrame:
    """Read a whole file. Failures name the file and, where known, the line.

    The frame's ``attrs["may_hold_nul"]`` is False when the file surely holds no NUL character,
    so validation can skip that per-column check.
    """
    if not path.exists():
        raise UserError(f"{path}: no such file")
    try:
        if fmt in ("csv", "tsv"):
            scan = scan_text(path, path.name)
            df = _read_delimited(path, "," if fmt == "csv" else "\t", scan)
        elif fmt == "jsonl":
            scan = scan_text(path, path.name)
            df = _read_jsonl(path)
        elif fmt == "parquet":
            scan, df = None, pd.read_parquet(path)
        else:
            raise UserError(f"{path.name}: format {fmt!r} is not a table")
    except UserError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path.name}: cannot read as {fmt}: {exc}") from None
    _check_unique_columns([str(c) for c in df.columns], path.name)
    df.attrs["may_hold_nul"] = scan is None or scan.may_hold_nul
    return df


def _check_unique_columns(columns: list[str], name: str) -> None:
    """Two columns of one name would be silently renamed (``text.1``) or overwrite each other."""
    seen: dict[str, list[int]] = {}
    for position, column in enumerate(columns, start=1):
        seen.setdefault(column, []).append(position)
    repeated = {c: where for c, where in seen.items() if len(where) > 1}
    if repeated:
        column, where = next(iter(repeated.items()))
        raise UserError(
            f"{name}: line 1: the header names column {column!r} {len(where)} times (columns "
            f"{', '.join(map(str, where))}); give every column its own name and import again"
        )


def _read_delimited(path: Path, sep: str, scan: TextScan) -> pd.DataFrame:
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle, delimiter=sep), [])
    _check_unique_columns(header, path.name)  # before pyarrow renames a repeat to 'text.1'
    if scan.quotes % 2:
        # pyarrow would read on to the end of the file inside the open quote, silently: find
        # the field with the csv module (a bare '"' inside an unquoted field is legal there).
        _raise_unterminated_quote(path, sep)
    try:
        # The pyarrow engine reads 1M rows in about a second; everything as text, nothing as NaN,
        # so '' stays '' and ids like 007 keep their zeros.
        return pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, engine="pyarrow", encoding="utf-8"
        )
    except Exception as exc:
        return _read_delimited_slowly(path, sep, exc)


def _unterminated(path: Path, line: int) -> UserError:
    return UserError(
        f"{path.name}: line {line}: a quoted field starts on this line and its closing quote "
        "never comes (it would run to the end of the file); close the quote, and write a quote "
        'inside a quoted field as two ("")'
    )


def _raise_unterminated_quote(path: Path, sep: str) -> None:
    """Raise naming the line where a never-closed quote opens, if there is one."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter=sep, strict=True)
        start = 1
        try:
            for _ in reader:
                start = reader.line_num + 1
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise _unterminated(path, start) from None
            raise UserError(f"{path.name}: line {reader.line_num}: {exc}") from None


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
        start = reader.line_num + 1
        try:
            for row in reader:
                if len(row) != len(header):
                    raise UserError(
                        f"{path.name}: line {reader.line_num}: {len(row)} fields, but the header "
                        f"has {len(header)}; quote fields that contain {sep!r} or line breaks"
                    )
                rows.append(row)
                start = reader.line_num + 1
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise _unterminated(path, start) from None
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
