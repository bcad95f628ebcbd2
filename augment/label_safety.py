"""What an image pipeline does, in words, and which of its transforms may change an item's label.

Works on the albumentations spec (``A.to_dict`` form) without importing albumentations: pages
describe a pipeline and warn about it cheaply. A horizontal flip keeps the label of a cat photo
but not of a digit or a word in an image; a project says which it is (``flips_keep_label``), and
:func:`without_label_flips` takes flips out of a plan for projects where they change labels.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: Mirrors left-right: harmless for photos, changes digits, letters and text in images.
HORIZONTAL_FLIPS = frozenset({"HorizontalFlip"})
#: Turns or mirrors the image upside down: a 6 can become a 9 whatever the project says.
ORIENTATION = frozenset({"VerticalFlip", "Transpose", "RandomRotate90", "D4", "SquareSymmetry"})
#: Rotations wider than this may change what orientation-sensitive classes show.
MAX_SAFE_DEGREES = 30.0
#: Dropout holes with a side above this share of the image may hide what decides the label.
MAX_SAFE_HOLE = 0.1
#: Crops keeping less than this share of the area may cut the object out.
MIN_SAFE_CROP = 0.5


@dataclass(frozen=True)
class LabelWarning:
    """A transform that may change the label: ``removed`` when the export leaves it out."""

    transform: str
    message: str
    removed: bool = False


def transforms(spec: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every leaf transform of a pipeline spec, inside Compose/OneOf/SomeOf/Sequential."""
    stack = [spec.get("transform", spec)]
    while stack:
        node = stack.pop(0)
        children = node.get("transforms")
        if isinstance(children, list):
            stack[:0] = children
        elif isinstance(node, Mapping) and "__class_fullname__" in node:
            yield dict(node)


def _name(t: Mapping[str, Any]) -> str:
    return str(t.get("__class_fullname__", "?")).rsplit(".", 1)[-1]


def _span(value: Any, scale: float = 1.0, unit: str = "") -> str:
    """``[-a, a]`` as "±a", ``[a, b]`` as "a to b" (times ``scale``)."""
    if isinstance(value, Mapping):  # e.g. Affine's {"x": [..], "y": [..]}: the wider axis
        value = max(value.values(), key=lambda v: abs(v[1] - v[0]) if isinstance(v, list) else 0)
    if isinstance(value, int | float):
        value = [-value, value]
    low, high = (float(v) * scale for v in value)
    if abs(low + high) < 1e-9:
        return f"±{high:g}{unit}"
    return f"{low:g}{unit} to {high:g}{unit}"


def _affine(t: Mapping[str, Any]) -> str:
    parts = []
    if t.get("translate_percent"):
        parts.append(f"shifts the image by {_span(t['translate_percent'], 100, '%')}")
    if t.get("scale"):
        parts.append(f"scales it by {_span(t['scale'], 100, '%')}")
    if t.get("rotate"):
        parts.append(f"rotates it by {_span(t['rotate'], unit='°')}")
    return ", ".join(parts) or "moves the image (affine)"


_DESCRIBE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "HorizontalFlip": lambda t: "mirrors the image left to right",
    "VerticalFlip": lambda t: "flips the image upside down",
    "Transpose": lambda t: "swaps the image's rows and columns (a diagonal mirror)",
    "RandomRotate90": lambda t: "turns the image by a multiple of 90°",
    "Affine": _affine,
    "Rotate": lambda t: f"rotates the image by {_span(t.get('limit', 90), unit='°')}",
    "SafeRotate": lambda t: f"rotates the image by {_span(t.get('limit', 90), unit='°')}",
    "RandomBrightnessContrast": lambda t: (
        f"changes brightness by {_span(t.get('brightness_limit', 0.2), 100, '%')} and contrast by "
        f"{_span(t.get('contrast_limit', 0.2), 100, '%')}"
    ),
    "HueSaturationValue": lambda t: (
        f"shifts hue by {_span(t.get('hue_shift_limit', 20))}, saturation by "
        f"{_span(t.get('sat_shift_limit', 30))} and value by {_span(t.get('val_shift_limit', 20))}"
    ),
    "GaussianBlur": lambda t: f"blurs with a {_span(t.get('blur_limit', [3, 7]))} pixel kernel",
    "CoarseDropout": lambda t: (
        f"blanks {_span(t.get('num_holes_range', [1, 1]))} rectangles of "
        f"{_span(t.get('hole_width_range', [0.1, 0.1]), 100, '%')} of the image's side"
    ),
    "RandomResizedCrop": lambda t: (
        f"crops {_span(t.get('scale', [0.08, 1.0]), 100, '%')} of the area and resizes it back"
    ),
}


def describe(spec: Mapping[str, Any]) -> list[str]:
    """One sentence per transform: what it does and how often."""
    lines = []
    for t in transforms(spec):
        name = _name(t)
        describer = _DESCRIBE.get(name)
        what = describer(t) if describer else f"applies {name}"
        p = float(t.get("p", 1.0))
        often = "always" if p >= 1 else f"{100 * p:g}% of the copies"
        lines.append(f"{name}: {what} ({often}).")
    return lines


def _risk(t: Mapping[str, Any], flips_keep_label: bool) -> LabelWarning | None:
    name = _name(t)
    if name in HORIZONTAL_FLIPS and not flips_keep_label:
        return LabelWarning(
            name,
            "mirrors the image, and this project says flips change its "
            "labels (digits, text in images)",
            removed=True,
        )
    if name in ORIENTATION:
        return LabelWarning(
            name,
            "turns or mirrors the image upside down: a 6 can become a 9 and "
            "text becomes unreadable; keep it only if no class depends on orientation",
        )
    degrees = t.get("rotate") if name == "Affine" else t.get("limit") if "Rotate" in name else None
    if degrees is not None and abs(float(_span_max(degrees))) > MAX_SAFE_DEGREES:
        return LabelWarning(
            name,
            f"rotates by more than {MAX_SAFE_DEGREES:g}°: orientation-"
            "sensitive classes (digits, arrows, text) may change",
        )
    hole = t.get("hole_width_range") if name == "CoarseDropout" else None
    if hole is not None and float(_span_max(hole)) > MAX_SAFE_HOLE:
        return LabelWarning(
            name,
            f"blanks holes up to {100 * _span_max(hole):g}% of the side: on "
            "small images they can hide what decides the label",
        )
    crop = t.get("scale") if name == "RandomResizedCrop" else None
    if crop is not None and float(min(crop)) < MIN_SAFE_CROP:
        return LabelWarning(
            name,
            f"may keep only {100 * float(min(crop)):g}% of the image: the "
            "object that decides the label can be cut out",
        )
    return None


def _span_max(value: Any) -> float:
    if isinstance(value, Mapping):
        return max(_span_max(v) for v in value.values())
    if isinstance(value, int | float):
        return abs(float(value))
    return max(abs(float(v)) for v in value)


def label_warnings(spec: Mapping[str, Any], flips_keep_label: bool = True) -> list[LabelWarning]:
    """The transforms of ``spec`` that may change an item's label, and why."""
    return [w for t in transforms(spec) if (w := _risk(t, flips_keep_label)) is not None]


def without_label_flips(spec: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``spec`` without horizontal flips (for projects where they change labels) and the names
    of what was taken out."""
    out = copy.deepcopy(dict(spec))
    removed: list[str] = []

    def prune(node: dict[str, Any]) -> None:
        children = node.get("transforms")
        if not isinstance(children, list):
            return
        kept = []
        for child in children:
            if _name(child) in HORIZONTAL_FLIPS:
                removed.append(_name(child))
                continue
            prune(child)
            kept.append(child)
        node["transforms"] = kept

    prune(out.get("transform", out))
    return out, removed


def plan_for_project(plan: Mapping[str, Any], flips_keep_label: bool) -> dict[str, Any]:
    """An augmentation plan (``AugmentPlan.to_dict()`` form) as a project may use it: image plans
    lose their horizontal flips where flips change labels, and say so (``removed_transforms``)."""
    plan = dict(plan)
    if plan.get("kind") != "image" or flips_keep_label:
        return plan
    spec, removed = without_label_flips(plan["spec"])
    if removed:
        plan["spec"] = spec
        plan["removed_transforms"] = sorted({*plan.get("removed_transforms", []), *removed})
        plan["removed_because"] = "the project says horizontal flips change its labels"
    return plan
