"""Uncertainty sampling: margin (the default), least confidence, entropy.

The measures are modAL's (via :mod:`active_learning.modal_compat`) and the batch is chosen with
modAL's own selection helpers (``multi_argmin``/``multi_argmax``), so each strategy picks exactly
the set its modAL counterpart (``margin_sampling``, ``uncertainty_sampling``, ``entropy_sampling``)
picks, then orders it most uncertain first. Scores are "higher = more informative": ``1 - margin``
for margin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from active_learning import modal_compat
from active_learning._validation import check_pool
from active_learning.base import Query, QueryStrategy, predict_proba, prepare


def margin_scores(model: Any, X_pool: Any, **_: Any) -> np.ndarray:
    """``1 - (p_top1 - p_top2)`` per item: 1 for a tie between the two likeliest classes."""
    X = check_pool(X_pool)
    return 1.0 - modal_compat.margin_from_proba(predict_proba(model, X, "margin"))


def least_confidence_scores(model: Any, X_pool: Any, **_: Any) -> np.ndarray:
    """``1 - max_c p_c`` per item."""
    X = check_pool(X_pool)
    return modal_compat.least_confidence_from_proba(predict_proba(model, X, "least_confidence"))


def entropy_scores(model: Any, X_pool: Any, **_: Any) -> np.ndarray:
    """Entropy of the predicted class distribution per item (nats)."""
    X = check_pool(X_pool)
    return modal_compat.entropy_from_proba(predict_proba(model, X, "entropy"))


def _ordered(idx: np.ndarray, scores: np.ndarray) -> Query:
    """modAL's set, most informative first (ties: lower index first)."""
    idx = idx[np.lexsort((idx, -scores[idx]))]
    return Query(idx, scores[idx], scores)


def margin_query(model: Any, X_pool: Any, n: int, **_: Any) -> Query:
    """The ``n`` items with the smallest margin: the same set as modAL's ``margin_sampling``."""
    X, n = prepare(X_pool, n)
    margin = modal_compat.margin_from_proba(predict_proba(model, X, "margin"))
    return _ordered(modal_compat.bottom_n(margin, n), 1.0 - margin)


def least_confidence_query(model: Any, X_pool: Any, n: int, **_: Any) -> Query:
    """The ``n`` items whose predicted class is least likely (modAL's ``uncertainty_sampling``)."""
    X, n = prepare(X_pool, n)
    scores = least_confidence_scores(model, X)
    return _ordered(modal_compat.top_n(scores, n), scores)


def entropy_query(model: Any, X_pool: Any, n: int, **_: Any) -> Query:
    """The ``n`` items with the highest predictive entropy (modAL's ``entropy_sampling``)."""
    X, n = prepare(X_pool, n)
    scores = entropy_scores(model, X)
    return _ordered(modal_compat.top_n(scores, n), scores)


MARGIN = QueryStrategy(
    "margin",
    margin_query,
    margin_scores,
    False,
    "smallest gap between the two likeliest classes (modAL's margin_sampling)",
)
LEAST_CONFIDENCE = QueryStrategy(
    "least_confidence",
    least_confidence_query,
    least_confidence_scores,
    False,
    "lowest probability of the predicted class",
)
ENTROPY = QueryStrategy(
    "entropy",
    entropy_query,
    entropy_scores,
    False,
    "highest entropy of the predicted class distribution",
)
