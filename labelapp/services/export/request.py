"""What an export is asked to do: format, ratios, seed, augmentation plan, confidence floor."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from labelapp.formats import EXPORT_FORMATS as FORMATS
from labelapp.models import (
    Project,
)
from labelapp.services.errors import UserError


@dataclass(frozen=True)
class ExportRequest:
    """What the user asked for; :meth:`checked` validates it before any work starts."""

    fmt: str
    seed: int = 0
    ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    min_confidence: float = 0.9
    resplit: bool = False
    augment: dict[str, Any] | None = None  # an AugmentPlan.to_dict()
    near_duplicate_threshold: float | None = 0.7
    include_unlabeled: bool = (
        False  # also write unlabeled.<ext> (labelapp.services.export.unlabeled)
    )

    def checked(self, project: Project) -> ExportRequest:
        if self.fmt not in FORMATS:
            raise UserError(
                f"unknown export format {self.fmt!r}; choose one of {', '.join(FORMATS)}"
            )
        if self.fmt == "imagefolder" and project.task_type != "image":
            raise UserError(
                "the imagefolder format is for image projects; pick csv, jsonl, "
                "parquet, huggingface or label_studio"
            )
        ratios = tuple(float(r) for r in self.ratios)
        if len(ratios) != 3 or min(ratios) < 0 or abs(sum(ratios) - 1) > 1e-6:
            raise UserError(
                f"ratios {list(self.ratios)} must be three non-negative numbers (train, dev, "
                "test) summing to 1, e.g. 0.8,0.1,0.1"
            )
        if not 0.0 <= float(self.min_confidence) <= 1.0:
            raise UserError(f"min confidence must be between 0 and 1, got {self.min_confidence}")
        if self.augment is not None:
            kind = self.augment.get("kind")
            if kind != project.task_type:
                raise UserError(
                    f"a {kind} augmentation plan cannot augment the {project.task_type} items of "
                    f"{project.name!r}"
                )
            from augment.label_safety import plan_for_project

            # Where flips change labels (digits, text in images) they leave the plan, recorded.
            return replace(self, augment=plan_for_project(self.augment, project.flips_keep_label))
        return self

    def to_params(self) -> dict[str, Any]:
        return {
            "format": self.fmt,
            "seed": int(self.seed),
            "ratios": [float(r) for r in self.ratios],
            "min_confidence": float(self.min_confidence),
            "resplit": bool(self.resplit),
            "augment": self.augment,
            "near_duplicate_threshold": self.near_duplicate_threshold,
            "include_unlabeled": bool(self.include_unlabeled),
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> ExportRequest:
        return cls(
            fmt=params["format"],
            seed=int(params.get("seed", 0)),
            ratios=tuple(params.get("ratios", (0.8, 0.1, 0.1))),  # type: ignore[arg-type]
            min_confidence=float(params.get("min_confidence", 0.9)),
            resplit=bool(params.get("resplit", False)),
            augment=params.get("augment"),
            near_duplicate_threshold=params.get("near_duplicate_threshold", 0.7),
            include_unlabeled=bool(params.get("include_unlabeled", False)),
        )


def export_params(
    project: Project, values: Mapping[str, Any], plan: Any = None, copies: Any = None
) -> dict[str, Any]:
    """The job parameters of an export asked for with ``values`` (JSON or form values) and the
    augmentation ``plan`` as the user gave it (see :func:`plan_from_user`), checked against the
    project. With a plan, web processes call it through
    :mod:`labelapp.services.analysis_child`: the plan is loaded by the augment library."""
    augment = plan_from_user(plan, copies)
    return request_from(values, augment=augment).checked(project).to_params()


def request_from(
    values: Mapping[str, Any], *, augment: dict[str, Any] | None = None
) -> ExportRequest:
    """An :class:`ExportRequest` from JSON or form values (numbers may be text; ``ratios`` a list
    or ``"0.8,0.1,0.1"``). The augmentation plan is passed already loaded (see
    :func:`load_plan`)."""
    fmt = str(values.get("format") or "").strip()
    if not fmt:
        raise UserError(f"give the export format: one of {', '.join(FORMATS)}")
    ratios = values.get("ratios") or (0.8, 0.1, 0.1)
    try:
        if isinstance(ratios, str):
            ratios = [float(x) for x in ratios.split(",")]
        ratios = tuple(float(x) for x in ratios)
        seed = int(values.get("seed") or 0)
        min_confidence = values.get("min_confidence")
        min_confidence = 0.9 if min_confidence in (None, "") else float(min_confidence)
    except (TypeError, ValueError):
        raise UserError(
            "seed must be an integer, min_confidence a number in [0, 1] and ratios three numbers "
            "like 0.8,0.1,0.1"
        ) from None
    if not 0 <= seed < 2**32:
        raise UserError(f"seed must be between 0 and {2**32 - 1}, got {seed}")
    resplit = values.get("resplit") in (True, "true", "on", "1", 1)
    unlabeled = values.get("include_unlabeled") in (True, "true", "on", "1", 1)
    return ExportRequest(
        fmt=fmt,
        seed=seed,
        ratios=ratios,
        min_confidence=min_confidence,  # type: ignore[arg-type]
        resplit=resplit,
        augment=augment,
        include_unlabeled=unlabeled,
    )


def load_plan(source: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """An augmentation plan (JSON file, shipped pipeline name or dict) as its recordable dict."""
    from augment.plan import load_augment_plan

    try:
        return load_augment_plan(source).to_dict()
    except (ValueError, FileNotFoundError, TypeError) as exc:
        raise UserError(f"augmentation plan: {exc}") from None


TEXT_PLAN = {"text": {"swap_prob": 0.1, "delete_prob": 0.1}, "copies": 1}


def plan_from_user(value: Any, copies: Any = None) -> dict[str, Any] | None:
    """A plan from the browser or the API: a shipped pipeline name, ``"text"`` (random swap and
    deletion), a JSON object or its text; never a server path. ``copies`` overrides the plan's."""
    if value in (None, "", "none"):
        return None
    from augment.images import ready_pipelines

    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise UserError(f"augmentation plan: not valid JSON ({exc})") from None
    if value == "text":
        value = dict(TEXT_PLAN)
    elif isinstance(value, str) and value not in ready_pipelines():
        raise UserError(
            f"augmentation plan {value!r}: give one of the shipped pipelines "
            f"{ready_pipelines()}, 'text', or the plan itself as JSON"
        )
    if not isinstance(value, str | dict):
        raise UserError("augmentation plan: give a pipeline name or a JSON object")
    plan = load_plan(value)
    if copies not in (None, ""):
        try:
            copies = int(copies)
        except (TypeError, ValueError):
            raise UserError(
                f"augmented copies per item must be a whole number, got {copies!r}"
            ) from None
        if not 1 <= copies <= 20:
            raise UserError(f"augmented copies per item must be between 1 and 20, got {copies}")
        plan["copies"] = copies
    return plan
