"""Import a folder of images: every file is opened and checked before anything is stored."""

from __future__ import annotations

import hashlib
import json
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
        """Copy each image to ``media/<sha256[:2]>/<sha256><ext>``; return external id -> that path."""
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


def validate_folder(
    folder: Path,
    label_names: list[str],
    folder_labels: bool,
    progress: Callable[[str, int, int], None],
) -> tuple[ValidRows, StagedImages]:
    """Check every image opens; with ``folder_labels`` each must sit in a folder named for its label."""
    from PIL import Image, UnidentifiedImageError

    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    if not files:
        raise UserError(
            f"{folder}: no images found (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})"
        )
    known = set(label_names)
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
        data = path.read_bytes()
        try:
            with Image.open(path) as image:
                image.verify()
            with Image.open(path) as image:
                width, height, mode = image.width, image.height, image.mode
        except (UnidentifiedImageError, OSError, SyntaxError) as exc:
            problems.append(f"{relative}: not a readable image ({exc})")
            continue
        digest = hashlib.sha256(data).hexdigest()
        sources[relative] = path
        hashes[relative] = digest
        meta = {"file": relative, "width": width, "height": height, "mode": mode}
        records.append((relative, digest, json.dumps(meta), labels, n))
        progress("validate", n + 1, len(files))
        if len(problems) >= MAX_ERRORS_SHOWN:
            break
    if problems:
        raise UserError(
            f"{folder}: {len(problems)} problem(s) found; nothing was imported:", problems
        )
    frame = pd.DataFrame(records, columns=["external_id", "content_hash", "meta", "labels", "row"])
    frame["text"] = None
    frame["group_key"] = None
    frame["row"] = np.arange(len(frame))
    return ValidRows(frame=frame, duplicates_in_file=0), StagedImages(sources, hashes)
