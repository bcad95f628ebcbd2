"""Majority vote, exactly as Snorkel's ``MajorityLabelVoter`` and WRENCH's ``MajorityVoting``."""

from __future__ import annotations

import hashlib

import numpy as np


def check_votes(L: np.ndarray, n_classes: int | None = None) -> np.ndarray:
    """Validate a vote matrix (2-D ints, -1 = abstain, labels < n_classes); return it as array."""
    L = np.asarray(L)
    if L.ndim != 2:
        raise ValueError(f"votes must be a 2-D (items x LFs) matrix, got shape {L.shape}")
    if L.size and not np.issubdtype(L.dtype, np.integer):
        raise ValueError(f"votes must be integers (-1 = abstain), got dtype {L.dtype}")
    if L.size and L.min() < -1:
        raise ValueError(f"votes must be -1 (abstain) or a class index, found {L.min()}")
    if n_classes is not None and L.size and L.max() >= n_classes:
        raise ValueError(f"a vote of {L.max()} is out of range for n_classes={n_classes}")
    return L


def vote_counts(L: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n, n_classes)`` count of votes per class, column by column (no one-hot of all LFs)."""
    counts = np.zeros((L.shape[0], n_classes), dtype=np.int32)
    rows = np.arange(L.shape[0])
    for j in range(L.shape[1]):
        col = L[:, j]
        hit = col >= 0
        np.add.at(counts, (rows[hit], col[hit].astype(np.intp)), 1)
    return counts


def majority_vote_proba(
    L: np.ndarray, n_classes: int, abstain_prior: np.ndarray | None = None
) -> np.ndarray:
    """Share of votes per class; rows where every LF abstains get ``abstain_prior``
    (uniform when None, as Snorkel and WRENCH do)."""
    L = check_votes(L, n_classes)
    counts = vote_counts(L, n_classes).astype(np.float64)
    total = counts.sum(axis=1, keepdims=True)
    prior = np.full(n_classes, 1.0 / n_classes) if abstain_prior is None else abstain_prior
    return np.where(total > 0, counts / np.maximum(total, 1), prior)


def _snorkel_hash(i: int) -> int:
    """Snorkel's deterministic row hash (``snorkel.utils.core._hash``): SHA-1 of ``str(i)``."""
    return int(hashlib.sha1(str(i).encode("utf-8")).hexdigest(), 16)


def probs_to_preds(probs: np.ndarray, tol: float = 1e-5) -> np.ndarray:
    """Arg-max with Snorkel's deterministic tie-break (``tie_break_policy="random"``): among
    the tied classes of row ``i``, take the ``sha1(str(i)) % n_tied``-th."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"probs must be (n, n_classes >= 2), got shape {probs.shape}")
    tied = np.abs(probs - probs.max(axis=1, keepdims=True)) < tol
    n_tied = tied.sum(axis=1)
    pick = np.zeros(len(probs), dtype=np.int64)
    for i in np.flatnonzero(n_tied > 1):  # only tied rows pay for the hash
        pick[i] = _snorkel_hash(int(i)) % int(n_tied[i])
    # the pick-th tied class: the first column where the running count of ties exceeds pick
    return (np.cumsum(tied, axis=1) > pick[:, None]).argmax(axis=1)


def majority_vote(L: np.ndarray, n_classes: int) -> np.ndarray:
    """Hard majority-vote predictions (Snorkel's tie-break); the published WRENCH MV row."""
    return probs_to_preds(majority_vote_proba(L, n_classes))
