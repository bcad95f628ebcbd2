"""Label-issue signals besides the model, and their combination into one score per item.

Each signal gives every item a strength in [0, 1] (0 = no evidence against its label), the class
it points to, and a reason string:

- ``model``: confident learning on out-of-sample probabilities (:mod:`.confident`); strength
  1 - self-confidence; flags the items confident learning selects, and puts first in the order
  also the unflagged items it trusts less than a flagged item of the same given label;
- ``annotators``: per-item vote counts; strength = share of votes for other classes (items with
  at least two votes); flags items where other classes got at least ``annotator_share``;
- ``label_model``: the label model's class probabilities from the LF votes; strength = its
  probability of the best other class when that class is its argmax; flags it at or above
  ``lm_threshold``;
- ``duplicates``: near-duplicate pairs, linked into groups; strength = share of the item's group
  (others) labeled differently; flags any such item.

The combined score is a weighted noisy-OR, ``1 - prod_s (1 - w_s * strength_s)``, so it stays in
[0, 1] and any one strong signal is enough to rank an item high; the weights are heuristics
(the model and annotators count fully, LF votes and duplicates less: they are weaker evidence
about a human label).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

DEFAULT_WEIGHTS: dict[str, float] = {
    "model": 1.0,
    "annotators": 1.0,
    "label_model": 0.8,
    "duplicates": 0.8,
}


@dataclass(frozen=True)
class Signal:
    """One source of evidence: strength per item, the class it points to, the items it flags."""

    strength: np.ndarray  # float in [0, 1]
    pointed: np.ndarray  # class code the evidence points to (-1: none)
    flagged: np.ndarray  # bool
    reason: Any  # callable(i) -> str for a flagged item
    first: np.ndarray | None = None  # bool: review before the rest (default: ``flagged``)

    def explain(self, i: int) -> str:
        return self.reason(int(i))


@dataclass(frozen=True)
class LabelIssues:
    """The result of :func:`~active_learning.label_issues.detect_label_issues`, one entry per item.

    ``scores`` in [0, 1], higher = label more likely wrong; ``flagged`` items to review;
    ``suggested`` the label a reviewer should consider (the given label for unflagged items);
    ``reasons`` a list of strings per item (empty when not flagged); ``order`` every item index
    in review order: first the ``review_first`` items (every flagged item, and each unflagged
    item the model trusts less than a flagged item of the same given label, see
    :func:`~active_learning.label_issues.review_first`), then the rest, each part by descending
    score. Also: ``classes`` (column order of the probabilities), ``pred_probs``, the
    per-signal ``strengths``, the calibrated ``confident_joint`` (rows: given label, columns:
    estimated true label), ``thresholds`` and ``n_estimated`` (label errors the confident joint
    estimates).
    """

    scores: np.ndarray
    flagged: np.ndarray
    suggested: np.ndarray
    reasons: list[list[str]]
    order: np.ndarray
    classes: np.ndarray
    pred_probs: np.ndarray
    confident_joint: np.ndarray
    thresholds: np.ndarray
    n_estimated: int
    strengths: dict[str, np.ndarray] = field(default_factory=dict)
    review_first: np.ndarray | None = None

    @property
    def flagged_indices(self) -> np.ndarray:
        """Indices of flagged items, in ``order`` (most likely wrong first)."""
        return self.order[self.flagged[self.order]]


def _name(classes: np.ndarray, code: int) -> str:
    return str(classes[code])


def annotator_signal(
    labels: np.ndarray, votes: Any, classes: np.ndarray, *, min_share: float = 0.5
) -> Signal:
    """Disagreement from per-item vote counts ``votes`` (n x K, dense or sparse; columns =
    classes)."""
    V = votes.toarray() if sp.issparse(votes) else np.asarray(votes, dtype=np.float64)
    if V.shape != (len(labels), len(classes)):
        raise ValueError(
            f"votes must be (n_items, n_classes) = ({len(labels)}, {len(classes)}); "
            f"got {V.shape}. Count each item's annotator answers per class, in class order."
        )
    if (V < 0).any():
        raise ValueError("votes must be non-negative counts.")
    total = V.sum(axis=1)
    rows = np.arange(len(labels))
    other = V.copy()
    other[rows, labels] = -1
    pointed = other.argmax(axis=1)
    against = total - V[rows, labels]
    strength = np.where(total >= 2, against / np.maximum(total, 1), 0.0)
    flagged = (total >= 2) & (strength >= min_share) & (V[rows, pointed] > 0)

    def reason(i: int) -> str:
        return (
            f"{int(V[i, pointed[i]])} of {int(total[i])} annotators said "
            f"'{_name(classes, pointed[i])}'"
        )

    return Signal(strength, np.where(against > 0, pointed, -1), flagged, reason)


def label_model_signal(
    labels: np.ndarray, lm_probs: Any, classes: np.ndarray, *, threshold: float = 0.9
) -> Signal:
    """LF votes against the label: the label model's argmax differs and is at least ``threshold``.

    ``lm_probs`` (n x K, columns = classes): the label model's probabilities; a row of NaN or all
    zeros means no LF voted on the item (no evidence).
    """
    L = np.asarray(lm_probs, dtype=np.float64)
    if L.shape != (len(labels), len(classes)):
        raise ValueError(
            f"lm_probs must be (n_items, n_classes) = ({len(labels)}, {len(classes)}); got "
            f"{L.shape}. Pass the label model's class probabilities in class order."
        )
    covered = np.isfinite(L).all(axis=1) & (np.nan_to_num(L).sum(axis=1) > 0)
    L = np.where(covered[:, None], np.nan_to_num(L), 0.0)
    best = L.argmax(axis=1)
    conf = L[np.arange(len(labels)), best]
    against = covered & (best != labels)
    strength = np.where(against, conf, 0.0)
    flagged = against & (conf >= threshold)

    def reason(i: int) -> str:
        return f"LF votes say '{_name(classes, best[i])}' with {conf[i]:.2f} label-model confidence"

    return Signal(strength, np.where(against, best, -1), flagged, reason)


def duplicate_signal(
    labels: np.ndarray, pairs: Any, classes: np.ndarray, item_ids: np.ndarray
) -> Signal:
    """Near-duplicates labeled differently: ``pairs`` (m x 2 row indices) linked into groups.

    Pairs are linked transitively (``augment.duplicates.find_duplicates`` pairs each text with
    its bucket's first row, so the groups, not the pairs, hold the full picture). Strength: the
    share of the item's other group members whose label differs; the reason names one of them
    with the most common other label.
    """
    n = len(labels)
    P = np.asarray(pairs, dtype=np.int64).reshape(-1, 2) if len(pairs) else np.empty((0, 2), int)
    if len(P) and (P.min() < 0 or P.max() >= n):
        raise ValueError(f"duplicate pairs must hold row indices in 0..{n - 1}.")
    graph = sp.coo_matrix((np.ones(len(P)), (P[:, 0], P[:, 1])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    K = len(classes)
    counts = sp.coo_matrix((np.ones(n), (group, labels)), shape=(group.max() + 1, K)).toarray()
    size = counts.sum(axis=1)[group]
    same = counts[group, labels]
    others = counts[group].copy()
    others[np.arange(n), labels] = -1
    pointed = others.argmax(axis=1)
    differ = size - same
    strength = np.where(size > 1, differ / np.maximum(size - 1, 1), 0.0)
    flagged = differ > 0
    # one representative row per (group, label): the first row in index order
    rep: dict[tuple[int, int], int] = {}
    for i in np.flatnonzero(size > 1)[::-1]:
        rep[(int(group[i]), int(labels[i]))] = int(i)

    def reason(i: int) -> str:
        j = rep[(int(group[i]), int(pointed[i]))]
        return f"near-duplicate of item {item_ids[j]} labeled '{_name(classes, pointed[i])}'"

    return Signal(strength, np.where(flagged, pointed, -1), flagged, reason)


def combine(
    labels: np.ndarray,
    signals: dict[str, Signal],
    class_evidence: np.ndarray,
    weights: dict[str, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Noisy-OR score, flagged mask, suggested class code, order and the review-first mask.

    ``order``: the items any signal puts first (its ``first``, by default its flags), then the
    rest, each part by descending score.
    """
    n = len(labels)
    keep = np.ones(n)
    flagged = np.zeros(n, dtype=bool)
    first = np.zeros(n, dtype=bool)
    evidence = class_evidence.copy()
    for name, signal in signals.items():
        w = float(weights.get(name, 1.0))
        keep *= 1.0 - np.clip(w * signal.strength, 0.0, 1.0)
        flagged |= signal.flagged
        first |= signal.flagged if signal.first is None else signal.first | signal.flagged
        hit = np.flatnonzero(signal.pointed >= 0)
        evidence[hit, signal.pointed[hit]] += w * signal.strength[hit]
    scores = 1.0 - keep
    evidence[np.arange(n), labels] = -np.inf
    suggested = np.where(flagged, evidence.argmax(axis=1), labels)
    order = np.lexsort((np.arange(n), -scores, ~first))
    return scores, flagged, suggested, order, first


def reasons_for(signals: dict[str, Signal], flagged: np.ndarray) -> list[list[str]]:
    """Per item, the reasons of every signal that flags it (empty for unflagged items)."""
    out: list[list[str]] = [[] for _ in range(len(flagged))]
    for signal in signals.values():
        for i in np.flatnonzero(signal.flagged & flagged):
            out[i].append(signal.explain(i))
    return out


def as_item_ids(item_ids: Sequence[Any] | None, n: int) -> np.ndarray:
    if item_ids is None:
        return np.arange(n)
    ids = np.asarray(item_ids, dtype=object)
    if len(ids) != n:
        raise ValueError(f"item_ids has {len(ids)} entries for {n} items; pass one per item.")
    return ids
