"""The weak-supervision steps by name, and summaries of runs and probabilistic labels for pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp.models import (
    Item,
    LabelModelRun,
    ProbLabel,
)
from labelapp.services.errors import UserError

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    pass


STEPS = ("apply", "fit", "propagate", "train")


JOB_STEPS = {
    "ws_apply": ("apply",),
    "ws_fit": ("fit",),
    "ws_propagate": ("propagate",),
    "ws_train": ("train",),
    "ws_pipeline": ("apply", "fit", "propagate", "train"),  # the page's "Run all"
}


def prob_label_counts(session: Session, project_id: int) -> dict[str, int]:
    """How many items hold a probabilistic label from each source."""
    rows = session.execute(
        select(ProbLabel.source, func.count())
        .where(ProbLabel.project_id == project_id)
        .group_by(ProbLabel.source)
    )
    return {source: n for source, n in rows}


RUN_KINDS = ("apply", "label_model", "propagation", "end_model")


PROB_SOURCES = ("label_model", "propagation", "model")


def latest_runs(session: Session, project_id: int) -> dict[str, LabelModelRun]:
    """The latest run of each kind: LF application, label model, propagation, end model."""
    out = {}
    for kind in RUN_KINDS:
        run = session.scalar(
            select(LabelModelRun)
            .where(LabelModelRun.project_id == project_id, LabelModelRun.kind == kind)
            .order_by(LabelModelRun.id.desc())
            .limit(1)
        )
        if run is not None:
            out[kind] = run
    return out


def list_prob_labels(
    session: Session, project_id: int, source: str | None, limit: int, after: int = 0
) -> list[dict[str, Any]]:
    """Probabilistic labels in id order after ``after``, each with its item, source and run."""
    if source is not None and source not in PROB_SOURCES:
        raise UserError(f"unknown source {source!r}: use one of {', '.join(PROB_SOURCES)}")
    if not 1 <= limit <= 10_000:
        raise UserError(f"limit must be between 1 and 10000, got {limit}")
    p = ProbLabel
    query = (
        select(
            p.id,
            p.item_id,
            Item.external_id,
            p.source,
            p.label_model_run_id,
            LabelModelRun.kind,
            p.label,
            p.confidence,
            p.probs,
            p.created_at,
        )
        .join(Item, Item.id == p.item_id)
        .outerjoin(LabelModelRun, LabelModelRun.id == p.label_model_run_id)
        .where(p.project_id == project_id, p.id > after)
        .order_by(p.id)
        .limit(limit)
    )
    if source is not None:
        query = query.where(p.source == source)
    keys = (
        "id",
        "item_id",
        "external_id",
        "source",
        "run_id",
        "run_kind",
        "label",
        "confidence",
        "probs",
        "created_at",
    )
    return [
        {**dict(zip(keys, row, strict=True)), "created_at": row[-1].isoformat()}
        for row in session.execute(query)
    ]
