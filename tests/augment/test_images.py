"""Image pipelines: data-defined, seeded per item, masks and boxes carried, lineage recorded."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from skimage import data

from augment.images import (
    augment_image,
    augment_images,
    build_pipeline,
    load_pipeline_spec,
    ready_pipelines,
    save_pipeline,
)
from tests.paths import REPO_ROOT

FLIP = {
    "__version__": "2.0.8",
    "transform": {
        "__class_fullname__": "Compose",
        "bbox_params": {"format": "pascal_voc", "label_fields": ["labels"]},
        "p": 1.0,
        "transforms": [{"__class_fullname__": "HorizontalFlip", "p": 1.0}],
    },
}


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


@pytest.mark.slow
def test_same_seed_same_image_other_item_or_copy_differs(astronaut):
    pipeline = build_pipeline("typical")
    first = augment_image(pipeline, astronaut, source_id="a", random_state=1)
    again = augment_image(build_pipeline("typical"), astronaut, source_id="a", random_state=1)
    assert np.array_equal(first.image, again.image)
    assert first.lineage() == again.lineage()
    others = [
        augment_image(pipeline, astronaut, source_id=s, random_state=r, copy=c).image
        for s, r, c in (("b", 1, 0), ("a", 2, 0), ("a", 1, 1))
    ]
    assert all(not np.array_equal(first.image, other) for other in others)


def test_mask_and_boxes_are_carried_along(astronaut):
    pipeline = build_pipeline(FLIP)
    mask = np.zeros(astronaut.shape[:2], dtype=np.uint8)
    mask[10:50, 20:60] = 1
    sample = augment_image(
        pipeline,
        astronaut,
        source_id=7,
        random_state=0,
        mask=mask,
        bboxes=[[20, 10, 60, 50]],
        bbox_labels=["helmet"],
    )
    width = astronaut.shape[1]
    assert np.array_equal(sample.image, astronaut[:, ::-1])
    assert np.array_equal(sample.mask, mask[:, ::-1])
    assert np.allclose(sample.bboxes, [[width - 60, 10, width - 20, 50]])
    assert sample.bbox_labels == ["helmet"]
    assert sample.params[0]["transform"] == "HorizontalFlip"


def test_lineage_is_json_and_names_applied_transforms(astronaut):
    pipeline = build_pipeline("typical")
    samples = list(augment_images(pipeline, [("x", astronaut)], random_state=3, copies=3))
    assert [s.copy for s in samples] == [0, 1, 2]
    for sample in samples:
        lineage = json.loads(json.dumps(sample.lineage()))
        assert lineage["source_id"] == "x"
        names = {t["transform"] for t in lineage["transforms"]}
        assert names <= {
            "HorizontalFlip",
            "Affine",
            "RandomBrightnessContrast",
            "HueSaturationValue",
            "GaussianBlur",
            "CoarseDropout",
        }
    assert any(s.params for s in samples)


def test_pipelines_round_trip_as_json(tmp_path):
    assert {"light", "typical"} <= set(ready_pipelines())
    path = save_pipeline(build_pipeline("light"), tmp_path / "light.json")
    assert load_pipeline_spec(path)["transform"] == load_pipeline_spec("light")["transform"]
    with pytest.raises(FileNotFoundError, match="ready pipelines"):
        load_pipeline_spec("no-such-pipeline")
    with pytest.raises(ValueError, match="'transform'"):
        load_pipeline_spec({"transforms": []})
    with pytest.raises(ValueError, match="bbox_params"):
        augment_image(
            build_pipeline({"transform": {"__class_fullname__": "Compose", "transforms": []}}),
            np.zeros((8, 8, 3), np.uint8),
            source_id=1,
            random_state=0,
            bboxes=[[0, 0, 1, 1]],
        )


@pytest.mark.slow
def test_albumentations_is_imported_lazily_and_offline():
    code = (
        "import os, sys\n"
        "import augment, augment.images, augment.splits, augment.plan, augment.text\n"
        "assert 'albumentations' not in sys.modules\n"
        "os.environ.pop('NO_ALBUMENTATIONS_UPDATE', None)\n"
        "augment.images.build_pipeline('light')\n"
        "assert 'albumentations' in sys.modules\n"
        "assert os.environ['NO_ALBUMENTATIONS_UPDATE'] == '1'\n"
        "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO_ROOT, timeout=120)


def test_preview_tiles_match_what_an_export_makes(astronaut, tmp_path):
    from augment.image_io import encode_png, read_image, write_image
    from augment.preview import preview_tiles

    path = write_image(astronaut, tmp_path / "a.png")
    tiles = preview_tiles("typical", [("a", path)], copies=2, random_state=5, max_side=512)
    assert [t.copy for t in tiles] == [-1, 0, 1]
    assert tiles[0].png == encode_png(read_image(path))
    exported = augment_image(build_pipeline("typical"), astronaut, source_id="a", random_state=5)
    assert tiles[1].png == encode_png(exported.image)
    assert tiles[1].lineage == exported.lineage()
    small = preview_tiles("light", [("a", astronaut)], copies=1, max_side=64)
    assert read_png_side(small[1].png) == 64


def read_png_side(png: bytes) -> int:
    import cv2

    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    return max(image.shape[:2])


def test_rgba_files_go_through_the_typical_pipeline(tmp_path):
    """skimage's horse is RGBA: colour transforms need 3 channels, so reading drops alpha."""
    from PIL import Image

    from augment.image_io import read_image

    rgba = np.zeros((64, 64, 4), dtype=np.uint8)
    rgba[16:48, 16:48] = (200, 30, 30, 255)  # an opaque red square on a transparent ground
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "logo.png")
    image = read_image(tmp_path / "logo.png")
    assert image.shape == (64, 64, 3)
    assert tuple(image[32, 32]) == (200, 30, 30) and tuple(image[0, 0]) == (255, 255, 255)
    pipeline = build_pipeline(load_pipeline_spec("typical"))
    out = augment_image(pipeline, image, source_id="logo", random_state=1)
    assert out.image.shape[2] == 3
