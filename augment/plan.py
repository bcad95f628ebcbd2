"""What to augment and how often, read from one JSON document (the CLI's ``--augment FILE``).

Two kinds, told apart by their keys:

* image: albumentations' own serialization (``{"__version__", "transform"}``, as written by
  ``A.to_dict`` or :func:`augment.images.save_pipeline`), or the name of a shipped pipeline;
* text: ``{"text": {"swap_prob": 0.1, "delete_prob": 0.1, "synonyms": {...}, ...}}``.

Either may add ``"copies": N`` (augmented copies per training item, default 1).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from augment.images import READY_PIPELINES_DIR, load_pipeline_spec, ready_pipelines
from augment.text import TextAugmentConfig


@dataclass(frozen=True)
class AugmentPlan:
    """``kind`` is ``"image"`` or ``"text"``; ``spec`` the pipeline dict or text config fields."""

    kind: str
    copies: int
    spec: dict[str, Any]

    def text_config(self) -> TextAugmentConfig:
        """The text options as a :class:`TextAugmentConfig` (text plans only)."""
        if self.kind != "text":
            raise ValueError(f"this augmentation plan is for {self.kind}, not text")
        return TextAugmentConfig(**self.spec)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as recorded in an export's manifest."""
        return {"kind": self.kind, "copies": self.copies, "spec": self.spec}


def load_augment_plan(source: str | Path | Mapping[str, Any]) -> AugmentPlan:
    """An :class:`AugmentPlan` from a JSON file, a shipped pipeline name or a dict."""
    if isinstance(source, Mapping):
        document = dict(source)
    else:
        path = Path(source)
        if not path.exists() and (READY_PIPELINES_DIR / f"{source}.json").exists():
            path = READY_PIPELINES_DIR / f"{source}.json"
        if not path.exists():
            raise FileNotFoundError(
                f"augmentation file {str(source)!r} not found; give a JSON file or one of the "
                f"shipped pipelines {ready_pipelines()}"
            )
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"augmentation file {path} is not valid JSON: {exc}") from None
    if {"kind", "spec"} <= document.keys():  # the to_dict() form, e.g. from a manifest
        return _checked(document["kind"], document.get("copies", 1), dict(document["spec"]))
    copies = document.pop("copies", 1)
    if "text" in document:
        return _checked("text", copies, dict(document["text"]))
    if "transform" in document:
        return _checked("image", copies, load_pipeline_spec(document))
    raise ValueError(
        "augmentation JSON must hold an albumentations pipeline ('transform', as written by "
        "albumentations.to_dict) or text options ({'text': {'swap_prob': 0.1, ...}})"
    )


def _checked(kind: str, copies: Any, spec: dict[str, Any]) -> AugmentPlan:
    if not isinstance(copies, int) or isinstance(copies, bool) or copies < 1:
        raise ValueError(f"augmentation 'copies' must be an integer >= 1, got {copies!r}")
    if kind == "text":
        fields = set(TextAugmentConfig.__dataclass_fields__)
        unknown = sorted(set(spec) - fields)
        if unknown:
            raise ValueError(
                f"unknown text augmentation options {unknown}; known: {sorted(fields)}"
            )
        TextAugmentConfig(**spec)  # validates the values now, not mid-export
    elif kind == "image":
        load_pipeline_spec(spec)
    else:
        raise ValueError(f"augmentation kind must be 'image' or 'text', got {kind!r}")
    return AugmentPlan(kind=kind, copies=copies, spec=spec)
