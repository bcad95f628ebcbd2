"""Cluster-based sampling: the most informative items, spread over well-formed clusters.

The pool is clustered (:func:`active_learning.clustering.cluster_pool`, by default into as many
clusters as the batch size); the batch takes the most uncertain (margin) item of each well-formed
cluster, clusters whose best item is most uncertain first, and goes round again if the batch is
larger than the number of clusters. Tiny or loose clusters (outliers, noise) are used only when
the well-formed ones run out. So one batch covers the space instead of one uncertain corner.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from active_learning.base import Query, QueryStrategy, prepare
from active_learning.clustering import cluster_pool
from active_learning.uncertainty import margin_scores


def _pool_clusters(
    X: Any, n: int, clusters: Any, well_formed: Any, n_clusters: int | None, random_state: Any
) -> tuple[np.ndarray, np.ndarray]:
    """(cluster id per pool item, well-formed flag per cluster id)."""
    if clusters is None:
        c = cluster_pool(X, n_clusters or n, random_state=random_state)
        return c.labels, c.well_formed
    labels = np.asarray(clusters)
    if labels.shape != (X.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"cluster_based: clusters has shape {labels.shape} and dtype {labels.dtype}; expected "
            f"one integer cluster id per pool item ({X.shape[0]},). Pass "
            "PoolClustering.labels restricted to the pool rows."
        )
    if labels.min() < 0:
        raise ValueError("cluster_based: cluster ids must be non-negative.")
    n_ids = int(labels.max()) + 1
    if well_formed is None:
        return labels, np.ones(n_ids, dtype=bool)
    well = np.asarray(well_formed, dtype=bool)
    if well.shape[0] < n_ids:
        raise ValueError(
            f"cluster_based: well_formed has {well.shape[0]} flags but cluster ids go up to "
            f"{n_ids - 1}; pass PoolClustering.well_formed of the same clustering."
        )
    return labels, well


def round_robin(
    labels: np.ndarray, scores: np.ndarray, preferred: np.ndarray, n: int
) -> np.ndarray:
    """Pick ``n`` items: the best-scored item of each cluster, round after round.

    ``preferred`` (bool per item) items come before all others; within a round, higher scores
    first; ties by lower index.
    """
    n_items = labels.shape[0]
    # Items by (cluster, score desc, index): two stable argsorts are much faster than lexsort.
    order = np.argsort(-scores, kind="stable")
    order = order[np.argsort(labels[order], kind="stable")]
    sorted_labels = labels[order]
    starts = np.flatnonzero(np.r_[True, sorted_labels[1:] != sorted_labels[:-1]])
    rank = np.arange(n_items) - np.repeat(starts, np.diff(np.r_[starts, n_items]))
    round_of = np.empty(n_items, dtype=np.int64)
    round_of[order] = rank
    # An item in round >= n comes after the n items of its own cluster: never picked.
    cand = np.flatnonzero(round_of < n)
    keys = (cand, -scores[cand], round_of[cand], ~preferred[cand])
    return cand[np.lexsort(keys)][:n]


def cluster_based_query(
    model: Any,
    X_pool: Any,
    n: int,
    *,
    clusters: Any = None,
    well_formed: Any = None,
    n_clusters: int | None = None,
    random_state: Any = None,
    **_: Any,
) -> Query:
    """Round-robin over well-formed clusters, most uncertain (margin) item of each first.

    ``clusters`` (cluster id per pool item) and ``well_formed`` (bool per cluster id) come from
    a :class:`~active_learning.clustering.PoolClustering` computed once per data version;
    without them the pool is clustered here into ``n_clusters`` (default ``n``) clusters.
    """
    X, n = prepare(X_pool, n)
    labels, well = _pool_clusters(X, n, clusters, well_formed, n_clusters, random_state)
    scores = margin_scores(model, X)
    pick = round_robin(labels, scores, well[labels], n)
    return Query(pick, scores[pick], scores)


CLUSTER_BASED = QueryStrategy(
    "cluster",
    cluster_based_query,
    margin_scores,
    True,
    "most uncertain item of each well-formed k-means cluster, round robin",
)
