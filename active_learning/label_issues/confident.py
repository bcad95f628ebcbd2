"""Confident learning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty in
Dataset Labels", JAIR 70, 2021), written here from the paper's equations (Sec. 3), not from
cleanlab's code (cleanlab is AGPL; it is only run, in its own virtual environment, as the peer
in ``benchmarks/label_issues_bench.py``).

Notation: ``labels`` are the given (noisy) labels ỹ as codes ``0..K-1``; ``pred_probs`` (n x K)
are out-of-sample estimates of p̂(ỹ = j; x). The confident joint ``C[i][j]`` counts items given
label i whose true label is confidently j; it is calibrated to the label counts and normalized
into the estimated joint ``Q[i][j]`` of (given, true) labels, whose off-diagonal mass estimates
how many labels are wrong.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

FilterBy = Literal["prune_by_noise_rate", "prune_by_class", "both", "confident_joint"]
RankBy = Literal["self_confidence", "normalized_margin", "adjusted_confidence"]
FILTERS: tuple[str, ...] = ("prune_by_noise_rate", "prune_by_class", "both", "confident_joint")
RANKINGS: tuple[str, ...] = ("self_confidence", "normalized_margin", "adjusted_confidence")


def check_inputs(labels: Any, pred_probs: Any) -> tuple[np.ndarray, np.ndarray]:
    """``labels`` as int codes and ``pred_probs`` as a float (n, K) array, or a clear error."""
    P = np.asarray(pred_probs, dtype=np.float64)
    y = np.asarray(labels).ravel()
    if P.ndim != 2 or P.shape[1] < 2:
        raise ValueError(f"pred_probs must be (n_items, n_classes >= 2); got shape {P.shape}.")
    if P.shape[0] != len(y):
        raise ValueError(f"pred_probs has {P.shape[0]} rows but there are {len(y)} labels.")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(
            "labels must be integer codes 0..K-1 (column indices of pred_probs); "
            f"got dtype {y.dtype}. Map class names to column positions first."
        )
    if len(y) and (y.min() < 0 or y.max() >= P.shape[1]):
        raise ValueError(f"labels must be in 0..{P.shape[1] - 1} (one per pred_probs column).")
    if not np.isfinite(P).all() or (P < 0).any():
        raise ValueError("pred_probs must be finite and non-negative.")
    return y.astype(np.int64), P


def confident_thresholds(labels: Any, pred_probs: Any) -> np.ndarray:
    """Per-class thresholds t_j: mean p̂(ỹ=j; x) over the items given label j (paper eq. 2).

    A class no item is labeled with gets ``inf``: nothing can be confidently counted in it.
    """
    y, P = check_inputs(labels, pred_probs)
    K = P.shape[1]
    counts = np.bincount(y, minlength=K)
    sums = np.zeros(K)
    np.add.at(sums, y, P[np.arange(len(y)), y])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.inf)


def confident_true_labels(pred_probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per item, the class j with p̂_j >= t_j and the largest p̂_j among those, or -1 if none."""
    above = pred_probs >= thresholds[None, :]
    masked = np.where(above, pred_probs, -np.inf)
    best = masked.argmax(axis=1)
    return np.where(above.any(axis=1), best, -1)


def confident_joint(labels: Any, pred_probs: Any, *, calibrate: bool = True) -> np.ndarray:
    """The confident joint C[i][j]: items given label i confidently belonging to class j.

    Paper eq. 1: x labeled i counts in C[i][j] when p̂(ỹ=j; x) >= t_j, ties between several
    classes above their threshold going to the largest p̂. With ``calibrate`` (eq. 3) each row is
    rescaled to sum to the number of items labeled i (a row with no confident item puts them all
    on the diagonal), so the matrix estimates counts of (given, true) labels over all n items.
    """
    y, P = check_inputs(labels, pred_probs)
    K = P.shape[1]
    true = confident_true_labels(P, confident_thresholds(y, P))
    keep = true >= 0
    C = np.zeros((K, K), dtype=np.float64)
    np.add.at(C, (y[keep], true[keep]), 1.0)
    if not calibrate:
        return C
    counts = np.bincount(y, minlength=K).astype(np.float64)
    rows = C.sum(axis=1)
    out = np.where(rows[:, None] > 0, C / np.maximum(rows, 1)[:, None] * counts[:, None], 0.0)
    empty = rows == 0
    out[empty, empty] = counts[empty]
    return out


def estimate_joint(labels: Any, pred_probs: Any) -> np.ndarray:
    """Q[i][j] = p(ỹ=i, y*=j): the calibrated confident joint divided by its total (eq. 3)."""
    C = confident_joint(labels, pred_probs, calibrate=True)
    total = C.sum()
    return C / total if total > 0 else C


def label_quality(labels: Any, pred_probs: Any, method: RankBy = "self_confidence") -> np.ndarray:
    """A score per item in [0, 1]; lower = the given label is more likely wrong.

    ``self_confidence``: p̂(ỹ = given; x). ``normalized_margin``: (p̂_given - max_{j != given}
    p̂_j + 1) / 2. ``adjusted_confidence``: self-confidence after subtracting each class's
    threshold t_j from its column and renormalizing (the class-threshold adjustment of the
    paper's Sec. 3.1 applied to the ranking), which keeps a rare class's items from crowding the
    top of the list just because the model is less sure about rare classes in general.
    """
    y, P = check_inputs(labels, pred_probs)
    rows = np.arange(len(y))
    if method == "self_confidence":
        return P[rows, y].copy()
    if method == "normalized_margin":
        other = P.copy()
        other[rows, y] = -np.inf
        return (P[rows, y] - other.max(axis=1) + 1.0) / 2.0
    if method == "adjusted_confidence":
        t = confident_thresholds(y, P)
        t = np.where(np.isfinite(t), t, 1.0)
        adjusted = P - t[None, :] + t.max()
        adjusted /= adjusted.sum(axis=1, keepdims=True)
        return adjusted[rows, y]
    raise ValueError(f"unknown ranking {method!r}; use one of {', '.join(RANKINGS)}.")


def _prune_by_class(y: np.ndarray, P: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Per class i, the round(sum_{j != i} C[i][j]) items labeled i with the lowest p̂_i."""
    mask = np.zeros(len(y), dtype=bool)
    for i in range(P.shape[1]):
        members = np.flatnonzero(y == i)
        take = min(int(round(C[i].sum() - C[i, i])), len(members) - 1)
        if take > 0:
            order = np.argsort(P[members, i], kind="stable")
            mask[members[order[:take]]] = True
    return mask


def _prune_by_noise_rate(y: np.ndarray, P: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Per pair i != j, the round(C[i][j]) items labeled i with the largest margin p̂_j - p̂_i."""
    mask = np.zeros(len(y), dtype=bool)
    K = P.shape[1]
    for i in range(K):
        members = np.flatnonzero(y == i)
        budget = len(members) - 1  # never flag every item of a class
        for j in range(K):
            take = min(int(round(C[i, j])), budget) if j != i else 0
            if take > 0:
                margin = P[members, j] - P[members, i]
                mask[members[np.argsort(-margin, kind="stable")[:take]]] = True
    return mask


def find_label_issues(
    labels: Any,
    pred_probs: Any,
    *,
    filter_by: FilterBy = "both",
    rank_by: RankBy | None = None,
    exclude_agreeing: bool = True,
) -> np.ndarray:
    """Items whose given label is likely wrong: a boolean mask, or indices ranked by ``rank_by``.

    ``filter_by`` (paper Sec. 3.2, all from the calibrated confident joint C):

    - ``prune_by_noise_rate`` (CL: PBNR): for each off-diagonal (i, j), the round(C[i][j]) items
      labeled i with the largest margin p̂_j - p̂_i;
    - ``prune_by_class`` (CL: PBC): for each class i, the round(n_i - C[i][i]) items labeled i
      with the lowest self-confidence p̂_i;
    - ``both`` (CL: C+NR): items selected by both of the above;
    - ``confident_joint`` (CL: C_{ỹ,y*}): the items counted off the diagonal of the
      (uncalibrated) confident joint.

    Never flags every item of a class. With ``exclude_agreeing`` (default) an item whose most
    probable class is its given label is not flagged: the pruning counts are estimates, and in
    a two-class task PBNR's largest margins can still be negative (measured on all 5,574 SMS
    spam messages with 10 % flips: precision 0.845 -> 0.957, F1 0.827 -> 0.868). The default
    ``both`` had the best F1 on AG News (mean of 3 seeds, 5/10/20 % uniform flips: 0.615 / 0.715
    / 0.806 against PBNR's 0.560 / 0.683 / 0.795) and tied on the two-class sets, where PBC and
    PBNR select the same items. With ``rank_by`` (see :func:`label_quality`) the flagged
    items' indices are returned, least likely correct first; otherwise the mask.
    """
    y, P = check_inputs(labels, pred_probs)
    if filter_by == "confident_joint":
        true = confident_true_labels(P, confident_thresholds(y, P))
        mask = (true >= 0) & (true != y)
    elif filter_by in ("prune_by_noise_rate", "prune_by_class", "both"):
        C = confident_joint(y, P, calibrate=True)
        if filter_by == "prune_by_class":
            mask = _prune_by_class(y, P, C)
        elif filter_by == "prune_by_noise_rate":
            mask = _prune_by_noise_rate(y, P, C)
        else:
            mask = _prune_by_class(y, P, C) & _prune_by_noise_rate(y, P, C)
    else:
        raise ValueError(f"unknown filter_by {filter_by!r}; use one of {', '.join(FILTERS)}.")
    if exclude_agreeing:
        mask &= P.argmax(axis=1) != y
    if rank_by is None:
        return mask
    flagged = np.flatnonzero(mask)
    quality = label_quality(y, P, rank_by)[flagged]
    return flagged[np.argsort(quality, kind="stable")]


def review_first(labels: Any, pred_probs: Any, flagged: Any, quality: Any = None) -> np.ndarray:
    """The items to review first: ``flagged`` plus every item trusted less than a flagged item
    of the same given label.

    Per given label i, an unflagged item joins when its ``quality`` (default self-confidence
    p̂_i) is at most the highest quality of a flagged item labeled i and its most probable class
    is not i (the same rule as ``exclude_agreeing``). Within a class, whether a label is wrong
    is taken to fall with its self-confidence (the assumption behind prune-by-class), so a
    review list that shows a flagged label before a less trusted one of the same class skips
    a likelier error: "both" (PBC and PBNR) leaves out low-confidence items whose probability
    is spread over several other classes, which is right for the flags (fewer false alarms)
    but not for the order. Across classes confident learning still decides how deep each class
    goes, which keeps a rare class's many low-confidence but correct items out of the top.
    """
    y, P = check_inputs(labels, pred_probs)
    mask = np.asarray(flagged, dtype=bool).ravel()
    q = P[np.arange(len(y)), y] if quality is None else np.asarray(quality, dtype=np.float64)
    if mask.shape != y.shape or q.shape != y.shape:
        raise ValueError(f"flagged and quality must have one entry per label ({len(y)}).")
    bar = np.full(P.shape[1], -np.inf)
    np.maximum.at(bar, y[mask], q[mask])
    return mask | ((q <= bar[y]) & (P.argmax(axis=1) != y))


def estimated_issue_count(labels: Any, pred_probs: Any) -> int:
    """n * (1 - trace(Q)): how many labels the calibrated confident joint says are wrong."""
    C = confident_joint(labels, pred_probs, calibrate=True)
    return int(round(C.sum() - np.trace(C)))
