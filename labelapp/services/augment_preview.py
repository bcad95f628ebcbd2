"""The augmentation preview: a few items of a project and the augmented copies an export with
the same plan and seed would write, with notes on the plan's transforms. It runs the augment
library (albumentations, OpenCV), so pages ask for it through
:mod:`labelapp.services.analysis_child`, never in a web process."""

from __future__ import annotations

import base64
import random
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelapp import config
from labelapp.models import Item, Project
from labelapp.services.errors import UserError
from labelapp.services.export.request import plan_from_user

PREVIEW_ITEMS = 6
SAMPLE_FROM = 5000  # the first items by position the preview draws from


def preview(
    session: Session,
    project: Project,
    choice: str,
    spec_text: str = "",
    seed: int = 0,
    copies: int = 4,
    swap_prob: float = 0.1,
    delete_prob: float = 0.1,
) -> dict[str, Any]:
    """The plan for ``choice`` (a shipped pipeline, ``"text"`` with its two rates, or
    ``"custom"`` with ``spec_text``) as the project's export would use it, its notes, and the
    grid of sampled items with their copies."""
    if project.task_type == "text" and choice == "text":
        plan = plan_from_user({"text": {"swap_prob": swap_prob, "delete_prob": delete_prob}})
    else:
        plan = plan_from_user(spec_text if choice == "custom" else choice)
    if plan is not None and plan["kind"] != project.task_type:
        raise UserError(f"a {plan['kind']} plan cannot augment {project.task_type} items")
    plan, notes = augment_notes(project, plan)  # as the export would use it
    grid: list[dict] = []
    if plan is not None:
        maker = _image_grid if project.task_type == "image" else _text_grid
        grid = maker(session, project, plan, copies, seed)
    return {"plan": plan, "notes": notes, "grid": grid}


def augment_notes(project: Project, plan: dict[str, Any] | None) -> tuple[dict | None, dict]:
    """The plan as the project's export would use it (flips out where they change labels) and
    the page's notes on it: the pipeline's own description, one line per transform, warnings."""
    notes: dict[str, Any] = {"description": "", "steps": [], "warnings": []}
    if plan is None or plan.get("kind") != "image":
        return plan, notes
    from augment.label_safety import describe, label_warnings, plan_for_project

    used = plan_for_project(plan, project.flips_keep_label)
    notes["description"] = str(plan["spec"].get("description", ""))
    notes["steps"] = describe(plan["spec"])
    notes["warnings"] = label_warnings(plan["spec"], project.flips_keep_label)
    return used, notes


def _sample(
    session: Session, project: Project, seed: int, n: int
) -> list[tuple[int, str, str | None, str | None]]:
    """``n`` items of the project, drawn with ``seed``: (id, external id, text, image path).

    The copies are seeded by the item id, as in an export, so they are the ones it would write.
    """
    rows = session.execute(
        select(Item.id, Item.external_id, Item.text, Item.image_path)
        .where(Item.project_id == project.id)
        .order_by(Item.position)
        .limit(SAMPLE_FROM)
    ).all()
    chosen = random.Random(seed).sample(rows, min(n, len(rows)))
    return [(r[0], r[1], r[2], r[3]) for r in chosen]


def _image_grid(
    session: Session, project: Project, plan: dict[str, Any], copies: int, seed: int
) -> list[dict]:
    """Per sampled image: the original and its copies, or why the pipeline cannot take it (e.g.
    colour transforms refuse 4-channel RGBA images: the export would fail on them too)."""
    from augment.preview import preview_tiles

    media = config.media_dir()
    rows = []
    for item_id, ext, _, path in _sample(session, project, seed, PREVIEW_ITEMS):
        if not path:
            continue
        row: dict[str, Any] = {"id": ext, "tiles": [], "error": None}
        try:
            tiles = preview_tiles(
                plan["spec"],
                [(str(item_id), media / path)],
                copies=copies,
                random_state=seed,
                max_side=180,
            )
        except (ValueError, KeyError, TypeError, FileNotFoundError) as exc:
            row["error"] = str(exc)
            rows.append(row)
            continue
        for tile in tiles:
            applied = [t["transform"] for t in tile.lineage.get("transforms", [])]
            row["tiles"].append(
                {
                    "n": tile.copy,
                    "src": "data:image/png;base64," + base64.b64encode(tile.png).decode("ascii"),
                    "caption": "original" if tile.copy < 0 else (", ".join(applied) or "unchanged"),
                }
            )
        rows.append(row)
    return rows


def _text_grid(
    session: Session, project: Project, plan: dict[str, Any], copies: int, seed: int
) -> list[dict]:
    from augment.text import TextAugmentConfig, augment_text

    settings = TextAugmentConfig(**plan["spec"])
    out = []
    for item_id, ext, text, _ in _sample(session, project, seed, PREVIEW_ITEMS):
        samples = [
            augment_text(text or "", settings, source_id=str(item_id), random_state=seed, copy=c)
            for c in range(copies)
        ]
        out.append(
            {
                "id": ext,
                "text": text or "",
                "copies": [
                    {
                        "text": s.text,
                        "ops": ", ".join(sorted({o["op"] for o in s.operations})) or "unchanged",
                    }
                    for s in samples
                ],
            }
        )
    return out
