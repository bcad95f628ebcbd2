"""Image augmentation pipelines on albumentations, defined as data and seeded per item.

A pipeline is albumentations' own serialization (``A.to_dict`` / ``A.from_dict``), stored as JSON.
Each augmented copy gets its own seed derived from ``(random_state, item_key, copy)``, so a copy is
reproducible on its own, whatever order items are processed in, and it reports the parameters
albumentations applied (``save_applied_params``) for lineage.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from augment.seeding import derive_seed

READY_PIPELINES_DIR = Path(__file__).resolve().parent / "pipelines"


def _albumentations():
    """Import albumentations lazily (about 2.5 s) and without its update check (no internet)."""
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    import albumentations

    return albumentations


def ready_pipelines() -> list[str]:
    """Names of the pipelines shipped with the library (``light``, ``typical``, ...)."""
    return sorted(p.stem for p in READY_PIPELINES_DIR.glob("*.json"))


def load_pipeline_spec(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """Return a pipeline spec (albumentations ``to_dict`` form) from a ready name, a JSON path
    or a dict."""
    if isinstance(source, Mapping):
        spec = dict(source)
    else:
        path = Path(source)
        if not path.suffix and (READY_PIPELINES_DIR / f"{source}.json").exists():
            path = READY_PIPELINES_DIR / f"{source}.json"
        if not path.exists():
            raise FileNotFoundError(
                f"pipeline {str(source)!r} is neither a JSON file nor a ready pipeline; "
                f"ready pipelines are {ready_pipelines()}"
            )
        spec = json.loads(path.read_text(encoding="utf-8"))
    if "transform" not in spec:
        raise ValueError(
            "pipeline spec has no 'transform' key; write it with albumentations.to_dict(compose) "
            "or save_pipeline()"
        )
    return spec


def build_pipeline(source: str | Path | Mapping[str, Any]):
    """Build an ``A.Compose`` from a spec that reports the parameters it applies."""
    A = _albumentations()
    pipeline = A.from_dict(load_pipeline_spec(source))
    if not isinstance(pipeline, A.BaseCompose):
        pipeline = A.Compose([pipeline])
    # from_dict does not restore these two run-time settings; lineage needs the applied params.
    pipeline.save_applied_params = True
    pipeline.main_compose = True
    return pipeline


def save_pipeline(pipeline, path: str | Path) -> Path:
    """Write an albumentations transform as JSON (``A.to_dict``), sorted keys for stable files."""
    A = _albumentations()
    path = Path(path)
    path.write_text(
        json.dumps(A.to_dict(pipeline), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return path


def to_jsonable(value: Any) -> Any:
    """Turn applied params (numpy arrays, tuples, numpy scalars) into plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return round(value, 10)
    return value


@dataclass
class AugmentedSample:
    """One augmented copy: the arrays it produced and where it came from."""

    source_id: str
    copy: int
    seed: int
    image: np.ndarray
    mask: np.ndarray | None = None
    bboxes: list[list[float]] = field(default_factory=list)
    bbox_labels: list[Any] = field(default_factory=list)
    params: list[dict[str, Any]] = field(default_factory=list)

    def lineage(self) -> dict[str, Any]:
        """JSON-ready lineage: original id, copy number, seed and each applied transform's
        params."""
        return {
            "source_id": self.source_id,
            "copy": self.copy,
            "seed": self.seed,
            "transforms": self.params,
        }


def _bbox_label_field(pipeline) -> str | None:
    processor = pipeline.processors.get("bboxes")
    if processor is None:
        return None
    fields = processor.params.label_fields or []
    if len(fields) > 1:
        raise ValueError(f"pipelines with several bbox label fields are not supported: {fields}")
    return fields[0] if fields else None


def augment_image(
    pipeline,
    image: np.ndarray,
    *,
    source_id: str | int,
    random_state: int,
    copy: int = 0,
    mask: np.ndarray | None = None,
    bboxes: Iterable[Iterable[float]] | None = None,
    bbox_labels: Iterable[Any] | None = None,
) -> AugmentedSample:
    """Apply ``pipeline`` to one image (and its mask and boxes) with a seed of its own.

    The same ``(random_state, source_id, copy)`` always yields the same image, mask, boxes and
    params. Boxes need ``bbox_params`` in the pipeline spec; they use its format (e.g.
    ``pascal_voc``).
    """
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
        raise ValueError(f"image for item {source_id!r} must be an HxW or HxWxC numpy array")
    seed = derive_seed(random_state, source_id, copy)
    # One shared stream for the whole pipeline: Compose.set_random_seed would seed every child
    # transform with the same seed, so their "apply with probability p" draws would be identical.
    pipeline.set_random_state(np.random.default_rng(seed), random.Random(seed))
    data: dict[str, Any] = {"image": image}
    if mask is not None:
        data["mask"] = mask
    label_field = _bbox_label_field(pipeline)
    boxes = [list(map(float, b)) for b in bboxes] if bboxes is not None else []
    labels = list(bbox_labels) if bbox_labels is not None else [None] * len(boxes)
    if "bboxes" in pipeline.processors:
        data["bboxes"] = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        if label_field:
            data[label_field] = labels
    elif boxes:
        raise ValueError(
            "boxes were given but the pipeline has no bbox_params; add e.g. "
            '"bbox_params": {"format": "pascal_voc", "label_fields": ["labels"]} to its Compose'
        )
    out = pipeline(**data)
    params = [
        {"transform": name, "params": to_jsonable(p)}
        for name, p in out.get("applied_transforms", [])
    ]
    out_boxes = np.asarray(out.get("bboxes", np.empty((0, 4))), dtype=float).reshape(-1, 4).tolist()
    out_labels = list(out.get(label_field, [])) if label_field else []
    return AugmentedSample(
        source_id=str(source_id),
        copy=copy,
        seed=seed,
        image=out["image"],
        mask=out.get("mask"),
        bboxes=out_boxes,
        bbox_labels=out_labels,
        params=params,
    )


def augment_images(
    pipeline,
    images: Iterable[tuple[str | int, np.ndarray]],
    *,
    random_state: int,
    copies: int = 1,
) -> Iterable[AugmentedSample]:
    """Yield ``copies`` augmented samples per ``(source_id, image)``; lazy, so memory stays flat."""
    if copies < 1:
        raise ValueError(f"copies must be >= 1, got {copies}")
    for source_id, image in images:
        for copy in range(copies):
            yield augment_image(
                pipeline, image, source_id=source_id, random_state=random_state, copy=copy
            )
