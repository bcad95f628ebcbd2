"""Image projects as a folder tree: ``<out>/<split>/<label>/<item_id><ext>`` plus a metadata.csv per split.

The ``metadata.csv`` (``file_name`` first) is the layout Hugging Face's ``imagefolder`` reads, and
keeps every row's id, label source, confidence, group key and metadata next to the images.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from labelapp.export.rows import SPLIT_NAMES, prepare_rows, splits_present

_UNSAFE = re.compile(r"[^\w.\-~]+", re.UNICODE)


def safe_name(value: str) -> str:
    """A file-system-safe name for a label or id (keeps letters, digits, ``_.-~``)."""
    cleaned = _UNSAFE.sub("_", str(value)).strip("._")
    return cleaned or "_"


def write_image_tree(
    rows: pd.DataFrame,
    out_dir: str | Path,
    *,
    path_column: str = "image_path",
    split_names: Sequence[str] = SPLIT_NAMES,
    progress: Callable[[int], None] | None = None,
    prepared: bool = False,
) -> list[Path]:
    """Copy each row's image to ``<split>/<label>/<item_id><ext>``; returns written paths (images, then CSVs)."""
    if path_column not in rows.columns:
        raise ValueError(f"image export needs a {path_column!r} column with each item's image file")
    if not prepared:
        rows = prepare_rows(rows, split_names=split_names)
    out = Path(out_dir)
    written: list[Path] = []
    csvs: list[Path] = []
    for split in splits_present(rows, split_names):
        part = rows[rows["split"] == split].reset_index(drop=True)
        names = []
        for item_id, label, source in zip(
            part["item_id"], part["label"], part[path_column], strict=True
        ):
            src = Path(source)
            if not src.is_file():
                raise FileNotFoundError(f"image for item {item_id!r} not found at {src}")
            relative = Path(safe_name(label)) / f"{safe_name(item_id)}{src.suffix.lower()}"
            target = out / split / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            written.append(target)
            names.append(relative.as_posix())
        if len(set(names)) != len(names):
            raise ValueError(
                f"two items in split {split!r} map to the same file name; item ids must differ after sanitizing"
            )
        metadata = part.drop(columns=[path_column]).assign(file_name=names)
        metadata = metadata[["file_name", *[c for c in metadata.columns if c != "file_name"]]]
        csv = out / split / "metadata.csv"
        metadata.to_csv(csv, index=False, lineterminator="\n", encoding="utf-8")
        csvs.append(csv)
        if progress:
            progress(len(part))
    return written + csvs
