"""An augmentation preview: a few items' augmented copies as small PNGs, for the browser grid."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from augment.image_io import encode_png, read_image
from augment.images import augment_image, build_pipeline


@dataclass(frozen=True)
class PreviewTile:
    """One cell of the grid: the item, which copy (``-1`` = the original), PNG bytes, lineage."""

    source_id: str
    copy: int
    png: bytes
    lineage: dict[str, Any]


def _thumbnail(image: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    height, width = image.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def preview_tiles(
    pipeline: str | Path | Mapping[str, Any],
    images: Iterable[tuple[str | int, str | Path | np.ndarray]],
    *,
    copies: int = 4,
    random_state: int = 0,
    max_side: int = 256,
) -> list[PreviewTile]:
    """Per image: the original, then ``copies`` augmented copies, each at most ``max_side`` px.

    ``pipeline`` is a shipped name, a JSON path or a spec dict; ``images`` pairs an item id with
    a file path or an array. The copies are the ones an export with the same seed would make.
    """
    if copies < 1:
        raise ValueError(f"copies must be >= 1, got {copies}")
    compose = build_pipeline(pipeline)
    tiles = []
    for source_id, image in images:
        array = image if isinstance(image, np.ndarray) else read_image(image)
        tiles.append(PreviewTile(str(source_id), -1, encode_png(_thumbnail(array, max_side)), {}))
        for copy in range(copies):
            sample = augment_image(
                compose, array, source_id=source_id, random_state=random_state, copy=copy
            )
            png = encode_png(_thumbnail(sample.image, max_side))
            tiles.append(PreviewTile(str(source_id), copy, png, sample.lineage()))
    return tiles
