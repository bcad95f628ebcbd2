"""Imported weak labels (``--label-kind weak``): each becomes a probabilistic label of source
``import`` with its confidence, counted like a label model's (train only) by
:mod:`labelapp.services.labels`."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp.models import ProbLabel, Project, utcnow
from labelapp.services.bulk import bulk_insert, sqlite_timestamp
from labelapp.services.errors import UserError
from labelapp.services.label_kinds import IMPORTED_WEAK_SOURCE

MAX_SHOWN = 20


def read_confidences(
    df: pd.DataFrame, column: str | None, filename: str, row_name: Callable[[int], str]
) -> np.ndarray | None:
    """The confidence column as floats in [0, 1] (empty cells: 1.0; no column: None); a
    UserError naming the rows that hold anything else."""
    if column is None:
        return None
    if column not in df.columns:
        raise UserError(
            f"{filename}: no column {column!r} for the confidence; the columns are: "
            f"{', '.join(map(str, df.columns))}"
        )
    raw = df[column]
    values = pd.to_numeric(raw, errors="coerce")
    empty = raw.isna() | (raw.astype("string").str.strip() == "")
    bad = (~empty & (values.isna() | (values < 0) | (values > 1))).to_numpy()
    if bad.any():
        rows = np.flatnonzero(bad)
        details = [
            f"{row_name(int(i))}: confidence {raw.iloc[int(i)]!r} is not a number from 0 to 1"
            for i in rows[:MAX_SHOWN]
        ]
        raise UserError(
            f"{filename}: {len(rows)} bad confidence value(s) in column {column!r}; "
            "nothing was imported. Give numbers from 0 to 1:",
            details,
        )
    return values.where(~empty, 1.0).to_numpy(dtype=float)


def class_probs(project: Project, labels: list[str], confidence: float) -> list[float]:
    """A probability per project label: single-label, ``confidence`` on the label and the rest
    shared by the others; multi-label, ``confidence`` on each label given, its complement
    elsewhere."""
    names = [label.name for label in project.labels]
    if project.multi_label:
        return [round(confidence if n in labels else 1.0 - confidence, 6) for n in names]
    rest = (1.0 - confidence) / max(len(names) - 1, 1)
    return [round(confidence if n == labels[0] else rest, 6) for n in names]


def store_weak_labels(
    session: Session,
    project: Project,
    frame: pd.DataFrame,
    item_ids: dict[str, int],
    confidences: np.ndarray | None,
    advance: Callable[[int], None],
) -> int:
    """Store the frame's labels as ``import`` probabilistic labels; the same label and
    confidence as the item's latest imported one adds nothing. Returns how many were stored."""
    labeled = frame[frame["labels"].notna()]
    conf = (
        confidences[labeled["row"].to_numpy()] if confidences is not None else np.ones(len(labeled))
    )
    latest = _latest(session, project.id)
    now = utcnow()
    created = sqlite_timestamp(now) if session.get_bind().dialect.name == "sqlite" else now
    rows = []
    for external, labels, c in zip(labeled["external_id"], labeled["labels"], conf, strict=True):
        item_id, names = item_ids[external], sorted(labels)
        label = "|".join(names)
        if latest.get(item_id) == (label, round(float(c), 6)):
            continue
        probs = json.dumps(class_probs(project, names, float(c)))
        rows.append((item_id, project.id, IMPORTED_WEAK_SOURCE, probs, label, float(c), created))
    bulk_insert(
        session,
        "prob_labels",
        ("item_id", "project_id", "source", "probs", "label", "confidence", "created_at"),
        rows,
        on_chunk=advance,
    )
    return len(rows)


def _latest(session: Session, project_id: int) -> dict[int, tuple[str, float]]:
    p = ProbLabel
    latest = (
        select(func.max(p.id))
        .where(p.project_id == project_id, p.source == IMPORTED_WEAK_SOURCE)
        .group_by(p.item_id)
    )
    rows = session.execute(select(p.item_id, p.label, p.confidence).where(p.id.in_(latest)))
    return {item_id: (label, round(float(c), 6)) for item_id, label, c in rows}
