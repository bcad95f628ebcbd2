"""Imported weak labels (``--label-kind weak``): each becomes a probabilistic label of source
``import`` with its confidence, counted like a label model's (train only) by
:mod:`labelapp.services.labels`."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp.models import ProbLabel, Project, utcnow
from labelapp.services.bulk import bulk_insert, sqlite_timestamp
from labelapp.services.errors import UserError
from labelapp.services.label_kinds import IMPORTED_WEAK_SOURCE

MAX_SHOWN = 20


class Confidences:
    """The confidence column (``--confidence-col``) checked chunk by chunk: floats in [0, 1]
    (empty cells: 1.0), and what else it holds, counted, with the first rows."""

    def __init__(self, column: str, filename: str) -> None:
        self.column, self.filename = column, filename
        self.bad = 0
        self.first: list[tuple[int, object]] = []  # (0-based data row, the value)

    def check_column(self, columns: list[str]) -> None:
        if self.column not in columns:
            raise UserError(
                f"{self.filename}: no column {self.column!r} for the confidence; the columns "
                f"are: {', '.join(map(str, columns))}"
            )

    def values(self, df: pd.DataFrame, offset: int = 0) -> np.ndarray:
        """The chunk's confidences; its bad values are noted (``offset``: its first data row)."""
        raw = df[self.column]
        values = pd.to_numeric(raw, errors="coerce")
        empty = raw.isna() | (raw.astype("string").str.strip() == "")
        bad = np.flatnonzero((~empty & (values.isna() | (values < 0) | (values > 1))).to_numpy())
        self.bad += len(bad)
        for i in bad[: MAX_SHOWN - len(self.first)]:
            self.first.append((offset + int(i), raw.iloc[int(i)]))
        return values.where(~empty, 1.0).to_numpy(dtype=float)

    def raise_if_bad(self, row_name: Callable[[int], str]) -> None:
        if not self.bad:
            return
        details = [
            f"{row_name(row)}: confidence {value!r} is not a number from 0 to 1"
            for row, value in self.first
        ]
        raise UserError(
            f"{self.filename}: {self.bad} bad confidence value(s) in column {self.column!r}; "
            "nothing was imported. Give numbers from 0 to 1:",
            details,
        )


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
    advance: Callable[[int], None],
    fresh: Collection[int] = (),
) -> int:
    """Store the frame's labels (with their ``confidence`` column, else 1.0) as ``import``
    probabilistic labels; the same label and confidence as the item's latest imported one adds
    nothing (``fresh``: items created by this import, which have none). Returns how many were
    stored."""
    labeled = frame[frame["labels"].notna()]
    if "confidence" in labeled:
        conf = labeled["confidence"].to_numpy(dtype=float)
    else:
        conf = np.ones(len(labeled))
    ids = [item_ids[external] for external in labeled["external_id"]]
    latest = _latest(session, project.id, [i for i in ids if i not in fresh])
    now = utcnow()
    created = sqlite_timestamp(now) if session.get_bind().dialect.name == "sqlite" else now
    rows = []
    for item_id, labels, c in zip(ids, labeled["labels"], conf, strict=True):
        names = sorted(labels)
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


IDS_PER_QUERY = 10_000  # ids per IN (...): well below PostgreSQL's and SQLite's parameter limits


def _latest(session: Session, project_id: int, item_ids: list[int]) -> dict[int, tuple[str, float]]:
    """The latest imported weak label of each of ``item_ids`` that has one."""
    p = ProbLabel
    out: dict[int, tuple[str, float]] = {}
    for start in range(0, len(item_ids), IDS_PER_QUERY):
        part = item_ids[start : start + IDS_PER_QUERY]
        latest = (
            select(func.max(p.id))
            .where(
                p.project_id == project_id,
                p.source == IMPORTED_WEAK_SOURCE,
                p.item_id.in_(part),
            )
            .group_by(p.item_id)
        )
        rows = session.execute(select(p.item_id, p.label, p.confidence).where(p.id.in_(latest)))
        out.update({item_id: (label, round(float(c), 6)) for item_id, label, c in rows})
    return out
