"""The web import wizard's uploads: kept in the data directory between the wizard's steps
(upload, columns and check, import; :mod:`labelapp.services.uploads`) and previewed without
pandas: the first rows of a table, or the names in a zip of images. Checking and importing are
``import`` jobs (:mod:`labelapp.services.import_job`)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from labelapp.services import uploads
from labelapp.services.errors import NotFound, UserError

PREVIEW_ROWS = 8
PREVIEW_BYTES = 1024 * 1024
PREVIEW_IMAGES = 8  # thumbnails shown of a zip of images
THUMBNAIL_MAX_BYTES = 5 * 1024 * 1024
FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".bmp": "image/bmp",
    ".webp": "image/webp",
    ".tif": "image/tiff",
    ".tiff": "image/tiff",
}


@dataclass
class Preview:
    """The first rows of an upload and its columns, as text."""

    filename: str
    format: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class ZipPreview:
    """What a zip of images holds, read from its directory (nothing is unpacked)."""

    filename: str
    format: str = "images"
    images: int = 0
    other_files: int = 0
    first: list[str] = field(default_factory=list)  # the first image names, for thumbnails
    folders: dict[str, int] = field(default_factory=dict)  # label subfolder -> images


def stash(stream: Any, filename: str, images: bool = False) -> str:
    """Keep an uploaded file (a werkzeug FileStorage) for the next steps; its token."""
    suffix = Path(filename).suffix.lower()
    if images and suffix != ".zip":
        raise UserError(
            f"{filename}: an image project imports a .zip of the image folder (one subfolder "
            "per label if the labels come from folder names)"
        )
    if not images and suffix not in FORMATS:
        raise UserError(
            f"{filename}: the wizard takes .csv, .tsv, .jsonl and .parquet files; "
            "choose one of those"
        )
    return uploads.save(stream, filename)


stashed = uploads.stashed
discard = uploads.discard


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


def preview_zip(path: Path) -> ZipPreview:
    """The images a zip holds, from its directory: how many, the first names and the label
    subfolders (as the import sees them: a zip of one top folder is that folder)."""
    from labelapp.services.imports.archive import check_entry_count  # no pandas

    check_entry_count(path, path.name)
    out = ZipPreview(path.name)
    for name, _ in _image_names(path, out):
        parts = PurePosixPath(name).parts
        out.images += 1
        if len(out.first) < PREVIEW_IMAGES:
            out.first.append(name)
        if len(parts) > 1:
            out.folders[parts[-2]] = out.folders.get(parts[-2], 0) + 1
    if not out.images:
        raise UserError(
            f"{path.name}: no images in the zip (looked for {', '.join(sorted(IMAGE_TYPES))})"
        )
    return out


def _image_names(path: Path, out: ZipPreview) -> list[tuple[str, str]]:
    """The image entries: (name below the folder the import starts from, name in the zip);
    counts the other files."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = [i.filename for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise UserError(
            f"{path.name}: not a zip archive (or a damaged one); upload a .zip of the image folder"
        ) from None
    kept = [n for n in names if not PurePosixPath(n).parts[0].startswith((".", "__MACOSX"))]
    tops = {PurePosixPath(n).parts[0] for n in kept}
    nested = len(tops) == 1 and all(len(PurePosixPath(n).parts) > 1 for n in kept)
    images = []
    for name in sorted(kept):
        relative = PurePosixPath(*PurePosixPath(name).parts[1:]) if nested else PurePosixPath(name)
        if relative.suffix.lower() in IMAGE_TYPES:
            images.append((relative.as_posix(), name))
        else:
            out.other_files += 1
    return images


def thumbnail(path: Path, index: int) -> tuple[bytes, str]:
    """The bytes and type of the ``index``-th image the preview lists (a small one only)."""
    from labelapp.services.imports.archive import check_entry_count  # no pandas

    check_entry_count(path, path.name)
    images = _image_names(path, ZipPreview(path.name))[:PREVIEW_IMAGES]
    if not 0 <= index < len(images):
        raise NotFound("no such image in the preview")
    name, entry = images[index]
    try:
        with zipfile.ZipFile(path) as zf, zf.open(entry) as handle:
            data = handle.read(THUMBNAIL_MAX_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError):
        raise NotFound(f"{name} cannot be read from the zip") from None
    if len(data) > THUMBNAIL_MAX_BYTES:
        raise NotFound(f"{name} is too large to preview")
    return data, IMAGE_TYPES[PurePosixPath(name).suffix.lower()]


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
