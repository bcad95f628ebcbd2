"""Image projects as a folder tree: ``<out>/<split>/<label>/<item_id><ext>`` plus a metadata.csv
per split.

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


def resolve_image(path: str | Path, image_root: str | Path | None) -> Path:
    """An image's file: ``path`` itself, or under ``image_root`` when it is relative."""
    path = Path(path)
    return path if path.is_absolute() or image_root is None else Path(image_root) / path


def write_image_tree(
    rows: pd.DataFrame,
    out_dir: str | Path,
    *,
    path_column: str = "image_path",
    image_root: str | Path | None = None,
    split_names: Sequence[str] = SPLIT_NAMES,
    progress: Callable[[int], None] | None = None,
    prepared: bool = False,
) -> list[Path]:
    """Copy each row's image to ``<split>/<label>/<item_id><ext>`` and write ``metadata.csv`` per
    split.

    Relative image paths are read under ``image_root``. Returns the written paths (images, then
    the CSVs).
    """
    if path_column not in rows.columns:
        raise ValueError(f"image export needs a {path_column!r} column with each item's image file")
    if not prepared:
        rows = prepare_rows(rows, split_names=split_names)
    out = Path(out_dir)
    written: list[Path] = []
    csvs: list[Path] = []
    for split in splits_present(rows, split_names):
        part = rows[rows["split"] == split].reset_index(drop=True)
        sources = [resolve_image(p, image_root) for p in part[path_column]]
        names = [
            f"{safe_name(label)}/{safe_name(item_id)}{source.suffix.lower()}"
            for item_id, label, source in zip(part["item_id"], part["label"], sources, strict=True)
        ]
        clash = pd.Series(names).duplicated(keep=False).to_numpy()
        if clash.any():
            raise ValueError(
                f"items {part.loc[clash, 'item_id'].tolist()[:5]} in split {split!r} map to the "
                "same file name after sanitizing their ids; give them distinct ids"
            )
        for item_id, source, name in zip(part["item_id"], sources, names, strict=True):
            if not source.is_file():
                raise FileNotFoundError(f"image for item {item_id!r} not found at {source}")
            target = out / split / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            written.append(target)
        metadata = part.drop(columns=[path_column]).assign(file_name=names)
        metadata = metadata[["file_name", *[c for c in metadata.columns if c != "file_name"]]]
        csv = out / split / "metadata.csv"
        metadata.to_csv(csv, index=False, lineterminator="\n", encoding="utf-8")
        csvs.append(csv)
        if progress:
            progress(len(part))
    return written + csvs
