"""Image augmentation speed: 1,000 images of 512x512 through the shipped "typical" pipeline.

    .venv/bin/python benchmarks/augment_bench.py --n 1000 --pipeline typical

Images are scikit-image's bundled photos (astronaut, coffee, chelsea, rocket, ...) resized to
512x512 RGB. Three runs over the same images: albumentations called directly (the peer: the
library our pipelines are made of), ``augment.images.augment_images`` (per-item seeding and
lineage on top), and the same plus writing each result as PNG. Reports items/s and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def photos(n: int) -> list[tuple[str, np.ndarray]]:
    """``n`` (id, 512x512x3 uint8) pairs cycling through scikit-image's colour photos."""
    import cv2
    from skimage import data

    names = ["astronaut", "coffee", "chelsea", "rocket", "retina", "immunohistochemistry"]
    base = [cv2.resize(getattr(data, name)()[..., :3], (512, 512)) for name in names]
    return [(f"img{i}", base[i % len(base)]) for i in range(n)]


def timed(label: str, n: int, run) -> dict:
    start, cpu = time.perf_counter(), time.process_time()
    run()
    seconds = time.perf_counter() - start
    return {
        "run": label,
        "images": n,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "images_per_s": round(n / seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--pipeline", default="typical")
    args = parser.parse_args()

    from augment.image_io import write_image
    from augment.images import augment_images, build_pipeline

    print(f"load average before: {os.getloadavg()}")
    start = time.perf_counter()
    pipeline = build_pipeline(args.pipeline)
    print(json.dumps({"build_pipeline_s_incl_import": round(time.perf_counter() - start, 2)}))
    images = photos(args.n)

    def direct() -> None:
        raw = build_pipeline(args.pipeline)
        raw.save_applied_params = False
        raw.set_random_seed(0)
        for _, image in images:
            raw(image=image, bboxes=np.zeros((0, 4), np.float32), labels=[])

    def ours() -> None:
        for _ in augment_images(pipeline, images, random_state=0):
            pass

    def ours_to_png() -> None:
        with tempfile.TemporaryDirectory() as folder:
            for sample in augment_images(pipeline, images, random_state=0):
                write_image(sample.image, Path(folder) / f"{sample.source_id}.png")

    for label, run in (
        ("albumentations direct", direct),
        ("augment_images", ours),
        ("augment_images + PNG", ours_to_png),
    ):
        print(json.dumps(timed(label, args.n, run)), flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
