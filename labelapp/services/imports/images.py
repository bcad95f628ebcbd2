"""Import a folder of images: every file is opened and checked before anything is stored."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from labelapp import config
from labelapp.services.errors import UserError
from labelapp.services.imports.validate import MAX_ERRORS_SHOWN, ValidRows

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}


@dataclass
class StagedImages:
    """Validated image files, copied into the media folder only when the import is stored."""

    sources: dict[str, Path]  # external id -> file
    hashes: dict[str, str]
    written: list[Path] = field(default_factory=list)

    def store(self) -> dict[str, str]:
        """Copy each image to ``media/<sha256[:2]>/<sha256><ext>``; return external id -> that
        path."""
        media = config.media_dir()
        stored = {}
        for external, src in self.sources.items():
            digest = self.hashes[external]
            relative = Path(digest[:2]) / f"{digest}{src.suffix.lower()}"
            target = media / relative
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, target)
                self.written.append(target)
            stored[external] = relative.as_posix()
        return stored

    def discard(self) -> None:
        """Remove the files this import copied (its transaction did not commit)."""
        for path in self.written:
            path.unlink(missing_ok=True)


class _TooLarge(ValueError):
    """An image with more pixels than LABELAPP_IMAGE_MAX_PIXELS."""


def _check_image(path: Path, max_pixels: int) -> tuple[int, int, str, str]:
    """Width, height, mode and format of the image at ``path``, checked without decoding its pixels.

    The size comes from the header and is refused above ``max_pixels`` before anything else
    (a 20000 x 20000 PNG of a few kB would decode to 1.6 GB); PIL's own decompression-bomb
    guard, tied to the same limit, turns from a warning into a refusal too.
    """
    from PIL import Image

    def refuse(pixels: int | None) -> _TooLarge:
        size = f"{pixels:,} pixels" if pixels else "too many pixels"
        return _TooLarge(
            f"{size}; the limit is {max_pixels:,} pixels (LABELAPP_IMAGE_MAX_PIXELS): scale "
            "the image down or raise the limit"
        )

    # PIL's own guard (in Image.open) follows the same limit: it warns above it and raises at
    # twice it, before this code sees the size. The same value every time: safe across threads.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with Image.open(path) as image:
            width, height, mode = image.width, image.height, image.mode
            kind = image.format or path.suffix.lstrip(".").upper()
            if width * height > max_pixels:
                raise refuse(width * height)
            image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))  # PIL: "Image size (N pixels) ..."
        raise refuse(int(found.group(1)) if found else None) from None
    return width, height, mode, kind


def validate_folder(
    folder: Path,
    label_names: list[str],
    folder_labels: bool,
    progress: Callable[[str, int, int], None],
    name: str | None = None,
) -> tuple[ValidRows, StagedImages]:
    """Check every image opens; with ``folder_labels`` each must sit in a folder named for its
    label.

    ``name`` is what messages call the folder (an upload's file name: never a server path).
    """
    name = name or str(folder)
    from PIL import UnidentifiedImageError

    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    if not files:
        raise UserError(
            f"{name}: no images found (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})"
        )
    known = set(label_names)
    max_pixels = config.image_max_pixels()
    problems: list[str] = []
    records = []
    sources: dict[str, Path] = {}
    hashes: dict[str, str] = {}
    progress("validate", 0, len(files))
    for n, path in enumerate(files):
        relative = path.relative_to(folder).as_posix()
        labels = None
        if folder_labels:
            parent = path.parent.name if path.parent != folder else None
            if parent is None or parent not in known:
                problems.append(
                    f"{relative}: with folder labels every image must be in a subfolder named "
                    f"after its label ({', '.join(label_names)})"
                )
                continue
            labels = [parent]
        try:
            width, height, mode, kind = _check_image(path, max_pixels)
        except _TooLarge as exc:
            problems.append(f"{relative}: {exc}")
            continue
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            problems.append(f"{relative}: not a readable image ({type(exc).__name__})")
            continue
        with path.open("rb") as handle:  # in chunks: an image file is never read whole
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        sources[relative] = path
        hashes[relative] = digest
        meta = {"file": relative, "width": width, "height": height, "mode": mode, "format": kind}
        records.append((relative, digest, json.dumps(meta), labels, n))
        progress("validate", n + 1, len(files))
        if len(problems) >= MAX_ERRORS_SHOWN:
            break
    if problems:
        raise UserError(
            f"{name}: {len(problems)} problem(s) found; nothing was imported:", problems
        )
    frame = pd.DataFrame(records, columns=["external_id", "content_hash", "meta", "labels", "row"])
    frame["text"] = None
    frame["group_key"] = None
    frame["row"] = np.arange(len(frame))
    return ValidRows(frame=frame, duplicates_in_file=0), StagedImages(sources, hashes)
