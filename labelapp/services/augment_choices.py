"""The augmentations the export and preview pages offer, named without importing the augment
library (a web process never loads it: albumentations, OpenCV): the image pipelines shipped with
it, read from their JSON files, and the text option. Cheap to import."""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path

TEXT_CHOICE = ("text", "text: random swap and deletion")


def _pipelines_dir() -> Path:
    """The augment package's folder of shipped pipelines (``augment.images.READY_PIPELINES_DIR``),
    found without importing the package."""
    spec = importlib.util.find_spec("augment")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the augment package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "pipelines"


@cache
def image_pipelines() -> tuple[tuple[str, str], ...]:
    """(name, title) of each shipped image pipeline, by name; the title is the first sentence
    of its own description ("light: for photos ...")."""
    out = []
    for path in sorted(_pipelines_dir().glob("*.json")):
        said = str(json.loads(path.read_text()).get("description", "")).split(".")[0]
        title = said.split(":", 1)[-1].strip()
        out.append(
            (path.stem, f"{path.stem}: {title}" if said else f"{path.stem} (shipped pipeline)")
        )
    return tuple(out)


def choices(task_type: str) -> list[tuple[str, str]]:
    """What an export of a ``task_type`` project may augment with: (value, title)."""
    return list(image_pipelines()) if task_type == "image" else [TEXT_CHOICE]
