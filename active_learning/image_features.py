"""Image features: downscaled pixels, or a colour-histogram + edge descriptor.

Images are numpy arrays (H, W) or (H, W, C), or paths readable by PIL. Both featurizers are
stateless (nothing to fit), so the features of an item never change between retrains.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np


def _load(image: Any) -> np.ndarray:
    if isinstance(image, str | Path):
        from PIL import Image

        with Image.open(image) as im:
            return np.asarray(im.convert("RGB"))
    arr = np.asarray(image)
    if arr.ndim not in (2, 3):
        raise ValueError(f"An image must be (H, W) or (H, W, C); got shape {arr.shape}.")
    return arr


def _rgb_float(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    arr = arr[:, :, :3]
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    arr = arr.astype(np.float32)
    return arr / 255.0 if arr.max(initial=0) > 1.0 else arr


def pixel_features(images: Iterable[Any], size: tuple[int, int] = (16, 16)) -> np.ndarray:
    """Each image resized to ``size`` (PIL, bilinear), grey, flattened and L2-normalised."""
    from PIL import Image

    rows = []
    for image in images:
        grey = (_rgb_float(_load(image)) @ np.array([0.299, 0.587, 0.114], np.float32)) * 255
        small = Image.fromarray(grey.astype(np.uint8)).resize(size, Image.BILINEAR)
        rows.append(np.asarray(small, dtype=np.float32).ravel())
    if not rows:
        raise ValueError("No images to featurize: the list is empty.")
    X = np.vstack(rows)
    X -= X.mean(axis=1, keepdims=True)
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


def descriptor_features(images: Iterable[Any], bins: int = 8) -> np.ndarray:
    """A per-image descriptor: a ``bins``-per-channel colour histogram and a histogram of
    gradient orientations (weighted by magnitude), concatenated and L2-normalised."""
    rows = []
    for image in images:
        rgb = _rgb_float(_load(image))
        colour = [np.histogram(rgb[:, :, c], bins=bins, range=(0.0, 1.0))[0] for c in range(3)]
        grey = rgb.mean(axis=2)
        gy, gx = np.gradient(grey)
        orient = np.histogram(
            np.arctan2(gy, gx), bins=bins, range=(-np.pi, np.pi), weights=np.hypot(gx, gy)
        )[0]
        colour_part = np.concatenate(colour).astype(np.float32) / grey.size
        edge_part = orient.astype(np.float32) / max(float(orient.sum()), 1e-12)
        rows.append(np.concatenate([colour_part, edge_part]))
    if not rows:
        raise ValueError("No images to featurize: the list is empty.")
    X = np.vstack(rows)
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
