"""Read CSV, TSV, JSONL and Parquet in chunks of DataFrames, with row numbers a person can find
again.

A million-row file is never in memory at once: :func:`open_table` checks what can be checked
up front (UTF-8, the header, quotes) and :meth:`TableFile.chunks` reads the rows
:data:`CHUNK_ROWS` at a time, as often as the import needs them. Every chunk has the column
types the whole file read at once would have.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
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
    lines: int = 0  # line breaks


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
    return TextScan(quotes=quotes, may_hold_nul=nul, lines=newlines)


CHUNK_ROWS = 100_000  # rows an import holds at a time
PARQUET_BUFFER = 1 << 20  # bytes read from a Parquet file at a time


class TableFile:
    """A table file opened for reading in chunks. Each :meth:`chunks` pass reads the file again
    (a JSONL file arrow cannot stream is the exception: it is held whole, as before)."""

    def __init__(
        self,
        path: Path,
        fmt: str,
        columns: list[str],
        read: Callable[[], Iterator[pd.DataFrame]],
        may_hold_nul: bool = True,
        rows: int | None = None,
        estimate: int | None = None,
    ) -> None:
        self.path, self.fmt, self.columns, self._read = path, fmt, columns, read
        # False when the file surely holds no NUL character (validation skips that check).
        self.may_hold_nul = may_hold_nul
        self.rows = rows  # data rows: known once read through, or up front (Parquet, JSONL)
        self.estimate = rows if rows is not None else estimate  # for progress only
        self._stamp = _stamp(path)

    def chunks(self) -> Iterator[tuple[int, pd.DataFrame]]:
        """``(offset, frame)``: the 0-based data row of the frame's first row, and up to about
        :data:`CHUNK_ROWS` rows (str column names, a RangeIndex). Failures name the file."""
        offset = 0
        try:
            for frame in self._read():
                if not len(frame):
                    continue
                if self.rows is not None and offset + len(frame) > self.rows:
                    raise self._changed()
                if len(frame.columns) == len(self.columns):
                    frame.columns = self.columns
                yield offset, frame.reset_index(drop=True)
                offset += len(frame)
        except UserError:
            raise
        except (ValueError, OSError, UnicodeDecodeError) as exc:  # pyarrow's errors among them
            raise UserError(f"{self.path.name}: cannot read as {self.fmt}: {exc}") from None
        if _stamp(self.path) != self._stamp or self.rows not in (None, offset):
            raise self._changed()
        self.rows = self.estimate = offset

    def _changed(self) -> UserError:
        """Each pass must read the rows the first one checked."""
        return UserError(
            f"{self.path.name}: the file changed while it was being imported; nothing was "
            "imported. Import it again"
        )


def _stamp(path: Path) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def open_table(path: Path, fmt: str) -> TableFile:
    """Open a table file, checking its encoding and header. Failures name the file and, where
    known, the line; a bad row later on is found by reading the chunks."""
    if not path.exists():
        raise UserError(f"{path}: no such file")
    try:
        if fmt in ("csv", "tsv"):
            table = _open_delimited(path, fmt, scan_text(path, path.name))
        elif fmt == "jsonl":
            table = _open_jsonl(path, scan_text(path, path.name))
        elif fmt == "parquet":
            table = _open_parquet(path)
        else:
            raise UserError(f"{path.name}: format {fmt!r} is not a table")
    except UserError:
        raise
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path.name}: cannot read as {fmt}: {exc}") from None
    _check_unique_columns(table.columns, path.name)
    return table


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


def _to_pandas(table: Any, widen: set[str]) -> pd.DataFrame:
    """An arrow table as pandas, typed as the whole file would be: an int column with a null
    anywhere in the file is float64 in every chunk, a bool column then object (``widen``)."""
    frame = table.to_pandas()
    for name in widen & set(frame.columns):
        dtype = frame[name].dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iu":
            frame[name] = frame[name].astype("float64")
        elif isinstance(dtype, np.dtype) and dtype.kind == "b":
            frame[name] = frame[name].astype(object)
    return frame


def _widened(schema: Any) -> list[str]:
    """The fields whose pandas type depends on whether they hold a null (ints and bools)."""
    import pyarrow as pa

    return [f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_boolean(f.type)]


def _batched(batches: Iterator[Any], schema: Any, widen: set[str]) -> Iterator[pd.DataFrame]:
    """Arrow record batches (a CSV or JSON block each, a Parquet row group's part) as frames
    of CHUNK_ROWS rows."""
    import pyarrow as pa

    held: list[Any] = []
    size = 0
    for batch in batches:
        held.append(batch)
        size += batch.num_rows
        while size >= CHUNK_ROWS:
            table = pa.Table.from_batches(held, schema=schema)
            yield _to_pandas(table.slice(0, CHUNK_ROWS), widen)
            held = table.slice(CHUNK_ROWS).to_batches()
            size -= CHUNK_ROWS
    if size:
        yield _to_pandas(pa.Table.from_batches(held, schema=schema), widen)


def _columns(schema: Any) -> list[str]:
    """The columns pandas makes of an arrow schema (an index stored by pandas is not one)."""
    return [str(c) for c in schema.empty_table().to_pandas().columns]


def _open_parquet(path: Path) -> TableFile:
    import pyarrow.parquet as pq

    with pq.ParquetFile(path, pre_buffer=False, buffer_size=PARQUET_BUFFER) as parquet:
        schema = parquet.schema_arrow
        widen = {name for name in _widened(schema) if _parquet_nulls(parquet, name)}
        rows = parquet.metadata.num_rows

    def read() -> Iterator[pd.DataFrame]:
        # Buffered reads, not pre-buffered ones: pyarrow keeps every row group pre-buffered
        # until the file is closed (measured: +30 MB a million rows of short texts).
        with pq.ParquetFile(path, pre_buffer=False, buffer_size=PARQUET_BUFFER) as parquet:
            batches = parquet.iter_batches(batch_size=CHUNK_ROWS)
            yield from _batched(batches, schema, widen)

    return TableFile(path, "parquet", _columns(schema), read, rows=rows)


def _parquet_nulls(parquet: Any, name: str) -> int:
    """How many nulls a top-level column holds: from the row groups' statistics, else read."""
    meta = parquet.metadata
    paths = {meta.schema.column(j).path: j for j in range(meta.num_columns)}
    if name in paths:
        counts = [
            meta.row_group(i).column(paths[name]).statistics for i in range(meta.num_row_groups)
        ]
        if all(stats is not None and stats.has_null_count for stats in counts):
            return sum(stats.null_count for stats in counts)
    batches = parquet.iter_batches(batch_size=CHUNK_ROWS, columns=[name])
    return sum(batch.column(0).null_count for batch in batches)


def _open_jsonl(path: Path, scan: TextScan) -> TableFile:
    import pyarrow as pa
    import pyarrow.json as pj

    try:  # a first streaming pass: the rows, the types, and which int columns hold a null
        reader = pj.open_json(path)
        schema, rows = reader.schema, 0
        ints = _widened(schema)
        nulls = dict.fromkeys(ints, 0)
        for batch in reader:
            rows += batch.num_rows
            for name in ints:
                nulls[name] += batch.column(name).null_count
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # types change after the first block: whole
        return _jsonl_whole(path, scan)
    widen = {name for name, count in nulls.items() if count}

    def read() -> Iterator[pd.DataFrame]:
        yield from _batched(iter(pj.open_json(path)), schema, widen)

    return TableFile(path, "jsonl", _columns(schema), read, scan.may_hold_nul, rows=rows)


def _jsonl_whole(path: Path, scan: TextScan) -> TableFile:
    """A JSONL file read whole: by arrow (which unifies the types of every line), else line by
    line by json.loads, which can say which line is broken."""
    import pyarrow as pa
    import pyarrow.json as pj

    try:
        table = pj.read_json(path)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        frame = _read_jsonl_slowly(path)

        def read_frame() -> Iterator[pd.DataFrame]:
            for start in range(0, len(frame), CHUNK_ROWS):
                yield frame.iloc[start : start + CHUNK_ROWS]

        columns = [str(c) for c in frame.columns]
        return TableFile(path, "jsonl", columns, read_frame, scan.may_hold_nul, rows=len(frame))
    widen = {name for name in _widened(table.schema) if table.column(name).null_count}

    def read_table() -> Iterator[pd.DataFrame]:
        for start in range(0, table.num_rows, CHUNK_ROWS):
            yield _to_pandas(table.slice(start, CHUNK_ROWS), widen)

    columns = _columns(table.schema)
    return TableFile(path, "jsonl", columns, read_table, scan.may_hold_nul, rows=table.num_rows)


def _open_delimited(path: Path, fmt: str, scan: TextScan) -> TableFile:
    sep = "," if fmt == "csv" else "\t"
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle, delimiter=sep), [])
    _check_unique_columns(header, path.name)  # before pyarrow renames a repeat to 'text.1'
    if scan.quotes % 2:
        # pyarrow would read on to the end of the file inside the open quote, silently: find
        # the field with the csv module (a bare '"' inside an unquoted field is legal there).
        _raise_unterminated_quote(path, sep)
    try:
        columns = list(_arrow_csv(path, sep).schema.names)
    except Exception as exc:  # the csv module says on which line, or reads it after all
        if "Empty CSV file" in str(exc):  # said as pandas says it
            exc = ValueError("No columns to parse from file")
        columns = _header_slowly(path, sep, exc)

    def read() -> Iterator[pd.DataFrame]:
        yield from _delimited_chunks(path, sep)

    return TableFile(path, fmt, columns, read, scan.may_hold_nul, estimate=scan.lines)


def _arrow_csv(path: Path, sep: str) -> Any:
    """pyarrow's streaming CSV reader, everything as text and nothing as null (so '' stays ''
    and ids like 007 keep their zeros): about a second for a million rows."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(encoding="utf-8"),
        parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            default_column_type=pa.string(), null_values=[], strings_can_be_null=False
        ),
    )


def _delimited_chunks(path: Path, sep: str) -> Iterator[pd.DataFrame]:
    """The rows by pyarrow; where pyarrow fails, on from there by the csv module."""
    done = 0
    try:
        reader = _arrow_csv(path, sep)
        for frame in _batched(iter(reader), reader.schema, set()):
            yield frame
            done += len(frame)
        return
    except Exception as exc:  # the csv module names the line, or reads on from there
        failure = exc
    yield from _read_delimited_slowly(path, sep, failure, skip=done)


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


def _header(reader: Any, path: Path) -> list[str]:
    try:
        return next(reader)
    except StopIteration:
        raise UserError(f"{path.name}: the file is empty; it needs a header line") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UserError(f"{path.name}: line 1: {exc}") from None


def _header_slowly(path: Path, sep: str, first_error: Exception) -> list[str]:
    """The header as the csv module reads it (when pyarrow cannot even start)."""
    with path.open(newline="", encoding="utf-8", errors="strict") as handle:
        header = _header(csv.reader(handle, delimiter=sep, strict=True), path)
    if not header:  # nothing to name the columns: the csv module says what is wrong
        for _ in _read_delimited_slowly(path, sep, first_error):
            pass
    return header


def _read_delimited_slowly(
    path: Path, sep: str, first_error: Exception, skip: int = 0
) -> Iterator[pd.DataFrame]:
    """The csv module, line by line, to say on which line a malformed file goes wrong; the
    rows after the first ``skip``, CHUNK_ROWS at a time."""
    with path.open(newline="", encoding="utf-8", errors="strict") as handle:
        reader = csv.reader(handle, delimiter=sep, strict=True)
        header = _header(reader, path)
        rows: list[list[str]] = []
        count = 0
        start = reader.line_num + 1
        try:
            for row in reader:
                if len(row) != len(header):
                    raise UserError(
                        f"{path.name}: line {reader.line_num}: {len(row)} fields, but the header "
                        f"has {len(header)}; quote fields that contain {sep!r} or line breaks"
                    )
                count += 1
                if count > skip:
                    rows.append(row)
                if len(rows) >= CHUNK_ROWS:
                    yield pd.DataFrame(rows, columns=header, dtype=str)
                    rows = []
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
    if not count and not header:
        raise UserError(f"{path.name}: could not read: {first_error}")
    if rows:
        yield pd.DataFrame(rows, columns=header, dtype=str)


def csv_line_numbers(path: Path, sep: str) -> np.ndarray:
    """The line on which each data row starts (rows may span lines when quoted)."""

    def starts() -> Iterator[int]:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter=sep)
            next(reader, None)
            start = reader.line_num + 1
            for _ in reader:
                yield start
                start = reader.line_num + 1

    return np.fromiter(starts(), dtype=np.int64)


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


def jsonl_line_numbers(path: Path) -> np.ndarray:
    """The line of each record, skipping blank lines."""
    with path.open(encoding="utf-8") as handle:
        lines = (n for n, line in enumerate(handle, start=1) if line.strip())
        return np.fromiter(lines, dtype=np.int64)
