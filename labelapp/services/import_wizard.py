"""The web import wizard's uploads: kept in a private folder of the data directory between the
wizard's steps (upload, columns and check, import), previewed without pandas, then discarded.
Checking and importing go through :func:`labelapp.services.uploads.import_upload`."""

from __future__ import annotations

import csv
import io
import json
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelapp import config
from labelapp.services.errors import NotFound, UserError

PREVIEW_ROWS = 8
PREVIEW_BYTES = 1024 * 1024
KEEP_SECONDS = 24 * 3600
FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}


@dataclass
class Preview:
    """The first rows of an upload and its columns, as text."""

    filename: str
    format: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


def _root() -> Path:
    return config.private_dir(config.data_dir() / "uploads")


def stash(stream: Any, filename: str) -> str:
    """Keep an uploaded file (a werkzeug FileStorage) for the next steps; its token."""
    if Path(filename).suffix.lower() not in FORMATS:
        raise UserError(
            f"{filename}: the wizard takes .csv, .tsv, .jsonl and .parquet files; "
            "choose one of those"
        )
    _forget_old()
    token = secrets.token_hex(16)
    folder = config.private_dir(_root() / token)
    stream.save(folder / filename)
    return token


def stashed(token: str) -> Path:
    """The file kept under ``token``."""
    folder = _root() / token
    if len(token) != 32 or not all(c in "0123456789abcdef" for c in token) or not folder.is_dir():
        raise NotFound("this upload is gone (imported, or older than a day): upload the file again")
    files = [p for p in folder.iterdir() if p.is_file()]
    if not files:
        raise NotFound("this upload is gone: upload the file again")
    return files[0]


def discard(token: str) -> None:
    shutil.rmtree(_root() / token, ignore_errors=True)


def _forget_old() -> None:
    cutoff = time.time() - KEEP_SECONDS
    for folder in _root().iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def preview(path: Path) -> Preview:
    """The columns and first rows of the file, read without loading it whole."""
    fmt = FORMATS[path.suffix.lower()]
    out = Preview(path.name, fmt)
    if fmt == "parquet":
        return _preview_parquet(path, out)
    with path.open("rb") as f:
        head = f.read(PREVIEW_BYTES).decode("utf-8", errors="replace")
    lines = head.splitlines()[: PREVIEW_ROWS + 1]
    if fmt == "jsonl":
        records = []
        for number, line in enumerate(lines[:PREVIEW_ROWS], start=1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                raise UserError(
                    f"{path.name}, line {number}: not a JSON object; each line of a "
                    "JSONL file is one object"
                ) from None
            if isinstance(record, dict):
                records.append(record)
        out.columns = list(dict.fromkeys(k for r in records for k in r))
        out.rows = [[_cell(r.get(c)) for c in out.columns] for r in records]
        return out
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter="\t" if fmt == "tsv" else ",")
    table = list(reader)
    out.columns = table[0] if table else []
    out.rows = [[_cell(v) for v in row] for row in table[1 : PREVIEW_ROWS + 1]]
    return out


def _preview_parquet(path: Path, out: Preview) -> Preview:
    import pyarrow.parquet as pq  # only when a Parquet file is previewed

    try:
        parquet = pq.ParquetFile(path)
    except Exception:
        raise UserError(f"{path.name}: not a readable Parquet file") from None
    out.columns = list(parquet.schema_arrow.names)
    batch = next(parquet.iter_batches(batch_size=PREVIEW_ROWS), None)
    if batch is not None:
        data = batch.to_pylist()
        out.rows = [[_cell(r.get(c)) for c in out.columns] for r in data]
    return out


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def guess_columns(columns: list[str]) -> dict[str, str]:
    """First choices by name: the text and id columns. Label and group columns are never guessed:
    a wrong guess would store answers or change the splits."""
    lower = {c.lower(): c for c in columns}
    text = next(
        (lower[n] for n in ("text", "content", "body", "comment", "message") if n in lower),
        columns[0] if columns else "",
    )
    return {
        "text_col": text,
        "id_col": next((lower[n] for n in ("id", "external_id", "comment_id") if n in lower), ""),
        "label_col": "",
        "group_col": "",
    }


def label_like(columns: list[str]) -> list[str]:
    """Columns whose names look like an answer (annotators will not see them by default)."""
    from labelapp.services.visibility import LABEL_LIKE_NAMES

    return [c for c in columns if c.strip().lower() in LABEL_LIKE_NAMES]


def summary(report: dict[str, Any]) -> str:
    """An import report in one sentence whose numbers add up (rows read = new + present + duplicates)."""
    return (
        f"Imported {report['filename']}: {report['rows']:,} rows read = "
        f"{report['items_created']:,} new items + {report['items_existing']:,} already there "
        f"+ {report['duplicates_in_file']:,} duplicates in the file; "
        f"{report['annotations_created']:,} labels."
    )
