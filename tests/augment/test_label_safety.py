"""Pipelines say what they do; transforms that may change a label are named; flips leave plans
of projects where they change labels."""

from __future__ import annotations

from augment.images import load_pipeline_spec, ready_pipelines
from augment.label_safety import describe, label_warnings, plan_for_project, without_label_flips
from augment.plan import load_augment_plan


def _names(spec: dict) -> list[str]:
    return [t["__class_fullname__"] for t in spec["transform"]["transforms"]]


def test_every_shipped_pipeline_states_what_it_does() -> None:
    for name in ready_pipelines():
        spec = load_pipeline_spec(name)
        assert len(spec.get("description", "")) > 80, name
        assert "digits" in spec["description"]  # and where it does not fit
        lines = describe(spec)
        assert len(lines) == len(_names(spec))
    light = describe(load_pipeline_spec("light"))
    assert light == [
        "HorizontalFlip: mirrors the image left to right (50% of the copies).",
        "RandomBrightnessContrast: changes brightness by ±15% and contrast by ±15% "
        "(50% of the copies).",
    ]
    typical = describe(load_pipeline_spec("typical"))
    assert (
        "Affine: shifts the image by ±5%, scales it by 90% to 110%, rotates it by ±15° "
        "(70% of the copies)." in typical
    )


def test_warnings_follow_the_projects_flip_setting() -> None:
    light = load_pipeline_spec("light")
    assert label_warnings(light, flips_keep_label=True) == []
    (flip,) = label_warnings(light, flips_keep_label=False)
    assert flip.transform == "HorizontalFlip" and flip.removed
    risky = {
        "__version__": "2.0.8",
        "transform": {
            "__class_fullname__": "Compose",
            "transforms": [
                {"__class_fullname__": "VerticalFlip", "p": 0.5},
                {
                    "__class_fullname__": "OneOf",
                    "transforms": [
                        {"__class_fullname__": "Rotate", "limit": [-90, 90], "p": 1.0},
                        {
                            "__class_fullname__": "CoarseDropout",
                            "hole_width_range": [0.2, 0.4],
                            "p": 1.0,
                        },
                    ],
                },
                {"__class_fullname__": "GaussianBlur", "blur_limit": [3, 5], "p": 0.2},
            ],
        },
    }
    assert [w.transform for w in label_warnings(risky)] == [
        "VerticalFlip",
        "Rotate",
        "CoarseDropout",
    ]
    assert not any(w.removed for w in label_warnings(risky, flips_keep_label=False))


def test_flips_leave_the_plan_where_they_change_labels_nested_too() -> None:
    plan = load_augment_plan("typical").to_dict()
    kept = plan_for_project(plan, flips_keep_label=True)
    assert kept == plan
    used = plan_for_project(plan, flips_keep_label=False)
    assert "HorizontalFlip" not in _names(used["spec"])
    assert _names(used["spec"]) == [n for n in _names(plan["spec"]) if n != "HorizontalFlip"]
    assert used["removed_transforms"] == ["HorizontalFlip"]
    assert "HorizontalFlip" in _names(plan["spec"])  # the original is not changed
    assert load_augment_plan(used).spec == used["spec"]  # still a plan the export can load
    nested = {
        "transform": {
            "__class_fullname__": "Compose",
            "transforms": [
                {
                    "__class_fullname__": "OneOf",
                    "transforms": [
                        {"__class_fullname__": "HorizontalFlip", "p": 1.0},
                        {"__class_fullname__": "Blur", "p": 1.0},
                    ],
                }
            ],
        }
    }
    spec, removed = without_label_flips(nested)
    assert removed == ["HorizontalFlip"]
    assert spec["transform"]["transforms"][0]["transforms"] == [
        {"__class_fullname__": "Blur", "p": 1.0}
    ]
