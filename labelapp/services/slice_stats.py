"""Slice figures on plain arrays (no Flask, no database): per slice the items, the human labels,
the model's held-out accuracy with a Wilson 95% interval, the human level and the gap."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pandas as pd

Z95 = 1.959963984540054  # the normal quantile of 0.975
SMALL_SLICE = 30  # fewer human labels than this: the slice's accuracy is marked as small


def wilson(hits: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (None without trials): unlike the normal
    approximation it stays inside [0, 1] and is honest for small n and proportions near 0 or 1."""
    if n == 0:
        return None
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def agreement_hits(answers: dict[int, list[str]]) -> tuple[int, int]:
    """Human level of one item: each annotator's answer against the majority of the others
    (leave one out; a tie among the others is no verdict). Returns (agreeing, judged)."""
    hits = judged = 0
    users = list(answers)
    if len(users) < 2:
        return 0, 0
    for user in users:
        others = Counter(answers[u][0] for u in users if u != user if answers[u])
        top = others.most_common(2)
        if not top or (len(top) == 2 and top[0][1] == top[1][1]):
            continue
        judged += 1
        hits += int(answers[user][:1] == [top[0][0]])
    return hits, judged


def slice_rows(frame: pd.DataFrame, key: str) -> list[dict[str, Any]]:
    """One row per value of ``frame[key]``, worst first.

    ``frame``: one row per item with ``label`` (human, or None), ``prediction`` (the model's
    out-of-fold prediction on labeled items, or None), ``human_hits`` and ``human_judged``.
    Worst first: the largest gap (human level minus model accuracy), then the lowest accuracy.
    """
    rows = []
    for value, group in frame.groupby(frame[key].fillna("(missing)").astype(str), sort=True):
        labeled = group[group["label"].notna()]
        scored = labeled[labeled["prediction"].notna()]
        hits = int((scored["prediction"] == scored["label"]).sum())
        accuracy = hits / len(scored) if len(scored) else None
        h_hits, h_judged = int(group["human_hits"].sum()), int(group["human_judged"].sum())
        human = h_hits / h_judged if h_judged else None
        interval = wilson(hits, len(scored))
        rows.append(
            {
                "value": value,
                "items": len(group),
                "human_labels": len(labeled),
                "model_accuracy": accuracy,
                "model_interval": list(interval) if interval else None,
                "human_level": human,
                "human_judged": h_judged,
                "gap": human - accuracy if human is not None and accuracy is not None else None,
                "small": len(scored) < SMALL_SLICE,
            }
        )
    return sorted(rows, key=_worst_first)


def _worst_first(row: dict[str, Any]) -> tuple:
    gap = row["gap"] if row["gap"] is not None else -math.inf
    accuracy = row["model_accuracy"] if row["model_accuracy"] is not None else math.inf
    return (-gap, accuracy, row["value"])
