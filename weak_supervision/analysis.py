"""LF analysis: coverage, overlap, conflict, polarity, and empirical accuracy against humans.

The definitions are Snorkel's ``LFAnalysis.lf_summary`` (computed column by column on the
vote matrix, so a 1M x 50 int8 matrix needs no sparse copy): coverage = share of items the
LF votes on; overlaps = share where it and another LF vote; conflicts = share where it votes
and some LF votes a different class; accuracy = share of its votes on human-labeled items that
match the human label.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from weak_supervision.majority import check_votes


def lf_analysis(
    L: np.ndarray,
    human_labels: np.ndarray | None = None,
    lf_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per LF: polarity, coverage, overlaps, conflicts and, with ``human_labels`` (one
    per item, -1 = unlabeled), correct, incorrect and emp_accuracy (NaN if it never votes on
    a labeled item)."""
    L = check_votes(L)
    n, m = L.shape
    names = list(lf_names) if lf_names is not None else [f"lf_{j}" for j in range(m)]
    if len(names) != m:
        raise ValueError(f"{len(names)} LF names for {m} vote columns")
    voted = L >= 0
    n_votes = voted.sum(axis=1)
    top = np.iinfo(L.dtype).max
    lo = np.where(voted, L, top).min(axis=1, initial=top)
    hi = L.max(axis=1, initial=-1)
    conflicted = (n_votes >= 2) & (lo != hi)
    denom = max(n, 1)
    table = pd.DataFrame(
        {
            "polarity": [sorted(int(v) for v in np.unique(L[voted[:, j], j])) for j in range(m)],
            "coverage": voted.sum(axis=0) / denom,
            "overlaps": (voted & (n_votes >= 2)[:, None]).sum(axis=0) / denom,
            "conflicts": (voted & conflicted[:, None]).sum(axis=0) / denom,
        },
        index=pd.Index(names, name="lf"),
    )
    if human_labels is not None:
        y = np.asarray(human_labels)
        if y.shape != (n,):
            raise ValueError(f"human_labels must have one entry per item ({n}), got {y.shape}")
        labeled = voted & (y >= 0)[:, None]
        correct = (labeled & (y[:, None] == L)).sum(axis=0)
        incorrect = labeled.sum(axis=0) - correct
        table["correct"] = correct
        table["incorrect"] = incorrect
        with np.errstate(invalid="ignore", divide="ignore"):
            table["emp_accuracy"] = np.where(
                correct + incorrect > 0, correct / (correct + incorrect), np.nan
            )
    return table


def lf_examples(
    L: np.ndarray,
    lf: int,
    texts: Sequence[str],
    human_labels: np.ndarray | None = None,
    n: int = 5,
    random_state: int = 0,
) -> dict[str, pd.DataFrame]:
    """Up to ``n`` random items LF column ``lf`` votes on (``hits``), and up to ``n`` where its
    vote differs from the human label (``disagreements``), with item index, text and labels."""
    L = check_votes(L)
    if not 0 <= lf < L.shape[1]:
        raise ValueError(f"LF column {lf} out of range for {L.shape[1]} LFs")
    if len(texts) != len(L):
        raise ValueError(f"{len(texts)} texts for {len(L)} vote rows")
    rng = np.random.default_rng(random_state)
    votes = L[:, lf]
    y = np.full(len(L), -1) if human_labels is None else np.asarray(human_labels)

    def frame(rows: np.ndarray) -> pd.DataFrame:
        rows = np.sort(rng.choice(rows, size=min(n, len(rows)), replace=False))
        return pd.DataFrame(
            {
                "item": rows,
                "text": [texts[i] for i in rows],
                "vote": votes[rows],
                "human": y[rows],
            }
        )

    hits = np.flatnonzero(votes >= 0)
    wrong = np.flatnonzero((votes >= 0) & (y >= 0) & (votes != y))
    return {"hits": frame(hits), "disagreements": frame(wrong)}
