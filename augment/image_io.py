"""Read and write image files as RGB(A) numpy arrays, with OpenCV (albumentations' own dependency).

PNG output uses fixed settings, so the same array always gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _cv2():
    import cv2

    return cv2


def read_image(path: str | Path) -> np.ndarray:
    """An image file as an HxW (grey) or HxWx3 (RGB) uint8 array.

    Transparency is dropped (composited on white): albumentations' colour transforms take one or
    three channels, and a training image has no use for alpha.
    """
    cv2 = _cv2()
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f"cannot read an image from {path} (missing or not an image file)")
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        rgb = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB).astype(np.float32)
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = (rgb * alpha + 255.0 * (1.0 - alpha)).round().astype(np.uint8)
    return image


def encode_png(image: np.ndarray) -> bytes:
    """PNG bytes (compression 3) of an RGB(A) or grey uint8 array."""
    cv2 = _cv2()
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    ok, encoded = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ValueError(f"cannot encode an image of shape {image.shape} as PNG")
    return encoded.tobytes()


def write_image(image: np.ndarray, path: str | Path) -> Path:
    """Write an RGB(A) or grey array as PNG and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_png(image))
    return path
