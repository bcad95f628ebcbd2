"""Batch-mode diversity: ranked batches (Cardoso et al. 2017) that are not near-duplicates.

The same score as modAL's ``uncertainty_batch_sampling``: each next item maximises
``alpha * (1 - 1 / (1 + d)) + (1 - alpha) * uncertainty``, ``d`` its Euclidean distance to the
nearest labeled or already chosen item, ``alpha = |unlabeled| / (|unlabeled| + |labeled|)``.
modAL recomputes every distance to the whole labeled set at every step (118 s for 100 of 100k
here); this keeps each item's nearest distance and updates it with one sparse product per pick,
and by default only considers the ``candidate_factor * n`` most uncertain items.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn import config_context
from sklearn.metrics import pairwise_distances_argmin_min

from active_learning import modal_compat
from active_learning._validation import check_batch_size, check_pool
from active_learning.base import Query, QueryStrategy, predict_proba, prepare, top_by_score


def _sq_norms(X: Any) -> np.ndarray:
    if sp.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", X, X)


def ranked_batch(
    X_pool: Any,
    uncertainty: np.ndarray,
    n: int,
    *,
    X_labeled: Any = None,
    candidate_factor: int | None = 10,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a ranked, diverse batch of ``n`` pool items and their combined scores.

    ``candidate_factor=None`` considers the whole pool (then the selection equals modAL's
    ``uncertainty_batch_sampling`` given labeled items); an int restricts it to the
    ``candidate_factor * n`` most uncertain items, which is faster and keeps batches informative.
    """
    X = check_pool(X_pool)
    n = check_batch_size(n, X.shape[0])
    uncertainty = np.asarray(uncertainty, dtype=float)
    n_pool = X.shape[0]
    if uncertainty.shape != (n_pool,):
        raise ValueError(
            f"ranked_batch: uncertainty has shape {uncertainty.shape}; expected ({n_pool},), "
            "one value per pool row."
        )
    if candidate_factor is None or candidate_factor * n >= n_pool:
        cand = np.arange(n_pool)
    else:
        cand = np.sort(top_by_score(uncertainty, candidate_factor * n))
    # float64 as sklearn's euclidean distances (hence modAL) use, so near-ties resolve alike.
    Xc = X[cand].astype(np.float64)
    unc = uncertainty[cand]
    sq = _sq_norms(Xc)
    n_labeled = 0 if X_labeled is None else X_labeled.shape[0]
    if n_labeled:
        # Bounded chunks (64 MB) instead of scikit-learn's default 1 GB working memory.
        with config_context(working_memory=64):
            _, nearest = pairwise_distances_argmin_min(Xc, X_labeled.astype(np.float64))
    else:
        nearest = np.full(cand.shape[0], np.inf)
    chosen = np.empty(n, dtype=np.int64)
    chosen_scores = np.empty(n)
    available = np.ones(cand.shape[0], dtype=bool)
    for step in range(n):
        n_unlabeled = n_pool - step
        alpha = n_unlabeled / (n_unlabeled + n_labeled + step)
        score = alpha * (1.0 - 1.0 / (1.0 + nearest)) + (1.0 - alpha) * unc
        score[~available] = -np.inf
        best = int(np.argmax(score))
        if n_labeled + step == 0:  # nothing labeled yet: every item is equally far; most uncertain
            tied = np.flatnonzero(score == score[best])
            best = int(tied[np.argmax(unc[tied])])
        chosen[step], chosen_scores[step] = best, score[best]
        available[best] = False
        x = Xc[best].toarray().ravel() if sp.issparse(Xc) else Xc[best]
        dot = Xc @ x  # one sparse matrix-vector product per pick
        d = np.sqrt(np.maximum(sq + sq[best] - 2.0 * dot, 0.0))
        np.minimum(nearest, d, out=nearest)
    return cand[chosen], chosen_scores


def diversity_query(
    model: Any,
    X_pool: Any,
    n: int,
    *,
    X_labeled: Any = None,
    candidate_factor: int | None = 10,
    **_: Any,
) -> Query:
    """A ranked batch on least-confidence uncertainty (as modAL), far from labeled items."""
    X, n = prepare(X_pool, n)
    unc = diversity_scores(model, X)
    idx, scores = ranked_batch(X, unc, n, X_labeled=X_labeled, candidate_factor=candidate_factor)
    return Query(idx, scores, unc)


def diversity_scores(model: Any, X_pool: Any, **_: Any) -> np.ndarray:
    """Per-item uncertainty (least confidence), used for items outside the ranked batch."""
    X = check_pool(X_pool)
    return modal_compat.least_confidence_from_proba(predict_proba(model, X, "diversity"))


DIVERSITY = QueryStrategy(
    "diversity",
    diversity_query,
    diversity_scores,
    True,
    "ranked batch: uncertain items far from labeled and already chosen ones (Cardoso et al.)",
)
