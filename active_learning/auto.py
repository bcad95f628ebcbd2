"""``auto``: typical, diverse items while the model is unstable; diverse margin sampling after.

Uncertainty sampling loses the cold start: a model trained on a few dozen labels is uncertain
about the wrong things, and margin then spends labels on outliers and one confused corner.
``auto`` measures whether the model has settled and picks accordingly:

- **stability** (after Bloodgood & Vijay-Shanker's "stabilizing predictions", 2009): Cohen's kappa
  between the predictions on the pool of the current model and of the same estimator refitted
  without the most recent ``recent`` labels (default: the batch size), i.e. the previous round's
  model. ``X_labeled``/``y_labeled`` must therefore be in labeling order (oldest first).
- **cold** (kappa < ``stable_kappa``, or too few labels to tell): typicality over k-means
  clusters (:func:`active_learning.typicality.typical_cover`, TypiClust).
- **stable**: margin with a diversity constraint: the ``candidate_factor * n`` smallest-margin
  items are split into ``n`` k-means clusters and the most uncertain item of each is taken
  (after Zhdanov 2019, "Diverse mini-batch active learning"), so one batch does not spend its
  labels on near-duplicates of a single confusion.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.cluster import KMeans
from sklearn.metrics import cohen_kappa_score
from threadpoolctl import threadpool_limits

from active_learning import modal_compat
from active_learning._validation import check_pool
from active_learning.base import (
    Query,
    QueryStrategy,
    as_random_state,
    predict_proba,
    prepare,
    top_by_score,
)
from active_learning.typicality import dense_view, typical_cover

STABLE_KAPPA = 0.9


def stability(
    model: Any,
    X_pool: Any,
    X_labeled: Any,
    y_labeled: Any,
    recent: int,
    max_rows: int = 20_000,
) -> float | None:
    """Cohen's kappa between ``model`` and the estimator refitted without the last ``recent``
    labels, on the pool's predictions (at most ``max_rows`` evenly spaced pool rows); None when
    it cannot be measured (no labels, fewer than 2 classes left, or a model that cannot be
    cloned and refitted)."""
    if model is None or X_labeled is None or y_labeled is None:
        return None
    y = np.asarray(y_labeled)
    keep = y.shape[0] - max(int(recent), 1)
    if keep < 2 or np.unique(y[:keep]).shape[0] < 2:
        return None
    try:
        previous = clone(model).fit(X_labeled[:keep], y[:keep])
    except Exception:
        return None
    if X_pool.shape[0] > max_rows:
        X_pool = X_pool[np.linspace(0, X_pool.shape[0] - 1, max_rows).astype(np.int64)]
    now, before = model.predict(X_pool), previous.predict(X_pool)
    if np.array_equal(now, before):
        return 1.0 if np.unique(now).shape[0] > 1 else None
    kappa = cohen_kappa_score(now, before)
    return float(kappa) if np.isfinite(kappa) else 0.0


def diverse_margin(
    X_pool: Any, margin_score: np.ndarray, n: int, *, candidate_factor: int, seed: int
) -> np.ndarray:
    """``n`` positions: the most uncertain item of each of ``n`` k-means clusters of the
    ``candidate_factor * n`` most uncertain items; most uncertain first."""
    cand = top_by_score(margin_score, min(candidate_factor * n, margin_score.shape[0]))
    if cand.shape[0] <= n:
        return cand[:n]
    Z = dense_view(X_pool[cand], seed)
    groups = KMeans(n_clusters=n, n_init=1, random_state=seed).fit_predict(Z)
    # cand is sorted most uncertain first: the first occurrence of a cluster is its best item.
    _, first = np.unique(groups, return_index=True)
    pick = cand[np.sort(first)]
    if pick.shape[0] < n:  # empty clusters (duplicates): fill with the next most uncertain
        rest = cand[~np.isin(cand, pick)]
        pick = np.concatenate([pick, rest[: n - pick.shape[0]]])
    return pick


def auto_query(
    model: Any,
    X_pool: Any,
    n: int,
    *,
    X_labeled: Any = None,
    y_labeled: Any = None,
    random_state: Any = None,
    stable_kappa: float = STABLE_KAPPA,
    recent: int | None = None,
    candidate_factor: int = 10,
    **_: Any,
) -> Query:
    """Typical items over clusters until the model is stable, then diverse margin sampling.

    ``model`` may be None (nothing labeled yet: typicality only). Pool scores are the margin
    score (1 - margin) once stable, else the typicality (in [0, 1]).
    """
    X, n = prepare(X_pool, n)
    rng = as_random_state(random_state)
    seed = int(rng.integers(2**31 - 1))
    # One thread: on these small matrices (<= 10k sampled rows) OpenMP/BLAS threads gain little;
    # on a loaded machine their spinning made one query 10-20x slower (measured: 18 s -> 1 s).
    with threadpool_limits(limits=1):
        return _auto_query(
            model, X, n, X_labeled, y_labeled, seed, stable_kappa, recent, candidate_factor
        )


def _auto_query(
    model: Any,
    X: Any,
    n: int,
    X_labeled: Any,
    y_labeled: Any,
    seed: int,
    stable_kappa: float,
    recent: int | None,
    candidate_factor: int,
) -> Query:
    kappa = stability(model, X, X_labeled, y_labeled, recent or n)
    if kappa is None or kappa < stable_kappa:
        idx, typ = typical_cover(X, n, X_labeled=X_labeled, random_state=seed)
        return Query(idx, typ[idx], typ)
    score = 1.0 - modal_compat.margin_from_proba(predict_proba(model, X, "auto"))
    idx = diverse_margin(X, score, n, candidate_factor=candidate_factor, seed=seed)
    idx = idx[np.lexsort((idx, -score[idx]))]
    return Query(idx, score[idx], score)


def auto_scores(model: Any, X_pool: Any, **state: Any) -> np.ndarray:
    """The pool scores ``auto`` would rank the queue by (see :func:`auto_query`)."""
    X = check_pool(X_pool)
    return auto_query(model, X, 1, **state).pool_scores


def auto_phase(model: Any, X_pool: Any, n: int, **state: Any) -> str:
    """ "cold" or "stable": which rule :func:`auto_query` applies now (for display and tests)."""
    X = check_pool(X_pool)
    kappa = stability(
        model, X, state.get("X_labeled"), state.get("y_labeled"), state.get("recent") or n
    )
    stable = kappa is not None and kappa >= state.get("stable_kappa", STABLE_KAPPA)
    return "stable" if stable else "cold"


AUTO = QueryStrategy(
    "auto",
    auto_query,
    auto_scores,
    True,
    "typical items over k-means clusters until the model is stable, then diverse margin sampling",
)
