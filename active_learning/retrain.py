"""Retrain on the human labels and rescore the unlabeled pool: what the app's background job calls.

Entry point: :func:`retrain_and_score`. It is pure (arrays in, arrays out): the caller maps its
items to row positions, passes the labels it has, and writes the returned priorities back.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score

from active_learning.clustering import PoolClustering, cluster_pool
from active_learning.committee import fit_committee
from active_learning.feature_cache import FeatureCache
from active_learning.feature_cache import data_version as content_version
from active_learning.featurize import DEFAULT_CACHE, featurize_texts_as
from active_learning.models import make_classifier
from active_learning.priorities import pool_priorities
from active_learning.strategies import DEFAULT_STRATEGY, get_strategy

#: Strategies that read a clustering of the pool, and its size parameter / default.
CLUSTERED = {"cluster": ("n_clusters", None), "region": ("n_regions", 8)}
COMMITTEES = ("committee", "committee_kl")


@dataclass(frozen=True)
class RescoreResult:
    """A fitted model and the new queue order.

    ``pool_indices`` are the rows of ``X`` still without a human label (ascending); ``priority``
    (in (0, 1], distinct, higher = show first) and ``score`` (the strategy's informativeness) are
    aligned with them. ``selected`` are rows of ``X`` forming the next batch, in order.
    ``metrics`` are measured on held-out human labels (None when there were too few to hold any
    out) on the rows ``holdout_indices``; ``model`` is the classifier trained on the others.
    """

    model: Any
    strategy: str
    pool_indices: np.ndarray
    priority: np.ndarray
    score: np.ndarray
    selected: np.ndarray
    metrics: dict[str, float] | None
    n_train: int
    holdout_indices: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    timings: dict[str, float] = field(default_factory=dict)


def _check_labels(
    n_rows: int, indices: Any, labels: Any, what: str
) -> tuple[np.ndarray, np.ndarray]:
    idx = np.asarray(indices if indices is not None else [], dtype=np.int64).ravel()
    y = np.asarray(labels if labels is not None else []).ravel()
    if idx.shape[0] != y.shape[0]:
        raise ValueError(
            f"{what}: {idx.shape[0]} indices but {y.shape[0]} labels; pass one label per index."
        )
    if idx.size and (idx.min() < 0 or idx.max() >= n_rows):
        raise ValueError(
            f"{what}: indices must lie in [0, {n_rows}); got {idx.min()}..{idx.max()}."
        )
    if np.unique(idx).shape[0] != idx.shape[0]:
        raise ValueError(f"{what}: indices repeat; pass each item once (its latest label).")
    return idx, y


def holdout_mask(n_rows: int, holdout_size: float, random_state: int = 0) -> np.ndarray:
    """Which rows are held out for evaluation: a fixed random ``holdout_size`` share of all rows.

    Fixed per row (not per label set), so an item stays held out across retrains and the
    metrics of successive model runs are comparable; appending rows leaves earlier rows' draws
    unchanged (the generator's stream is consumed in order).
    """
    if not 0.0 <= holdout_size < 1.0:
        raise ValueError(f"holdout_size must be in [0, 1); got {holdout_size}.")
    return np.random.default_rng([random_state, 7919]).random(n_rows) < holdout_size


def fit_query_model(
    strategy: str, model: Any, X: Any, y: Any, n_members: int = 5, random_state: Any = 0
) -> Any:
    """The model a strategy queries: a bagged committee for committee strategies, else ``model``."""
    if strategy in COMMITTEES:
        return fit_committee(model, X, y, n_members=n_members, random_state=random_state)
    return model


def strategy_state(
    strategy: str,
    X: Any,
    train_idx: np.ndarray,
    y_train: np.ndarray,
    pool_idx: np.ndarray,
    clustering: PoolClustering | None,
    random_state: Any,
) -> dict[str, Any]:
    """Everything a strategy may read besides the model and the pool (rows of ``X``)."""
    state: dict[str, Any] = {
        "X_labeled": X[train_idx],
        "y_labeled": y_train,
        "random_state": random_state,
    }
    if clustering is not None:
        key = "clusters" if strategy == "cluster" else "regions"
        state[key] = clustering.labels[pool_idx]
        state["well_formed"] = clustering.well_formed
        state["labeled_regions"] = clustering.labels[train_idx]
    return state


def _features(
    data: Any,
    version: str | None,
    featurizer: str,
    cache: FeatureCache,
    embedding_cache_dir: Any = None,
) -> tuple[Any, str | None, str]:
    """(feature matrix, data version or None when a matrix came without one, featurizer used)."""
    if sp.issparse(data) or (isinstance(data, np.ndarray) and data.ndim == 2):
        return data, version, featurizer
    if isinstance(data, str) or not isinstance(data, Sequence | np.ndarray):
        raise TypeError(
            "retrain_and_score: data must be a feature matrix (2-D array or scipy sparse) or a "
            f"sequence of texts; got {type(data).__name__}."
        )
    texts = list(data)
    version = version or content_version(texts)
    X, used, _ = featurize_texts_as(
        texts,
        kind=featurizer,
        version=version,
        cache=cache,
        embedding_cache_dir=embedding_cache_dir,
    )
    return X, version, used


def _training_split(
    n_rows: int,
    idx: np.ndarray,
    y: np.ndarray,
    holdout: tuple,
    holdout_size: float,
    extra: tuple,
    random_state: Any,
) -> tuple:
    """(train rows, held-out rows and labels, fit rows and labels): the held-out rows are the
    given ones, else a fixed share of all rows (none if that leaves one class to train on);
    ``extra`` rows (e.g. confident weak labels) join the fit set unless labeled or held out."""
    if np.unique(y).shape[0] < 2:
        raise ValueError(
            f"Need human labels of at least 2 classes to train; got {np.unique(y).tolist()}. "
            "Label more items (the queue keeps its current order meanwhile)."
        )
    if holdout[0] is not None:
        hold_idx, hold_y = _check_labels(n_rows, holdout[0], holdout[1], "holdout_indices")
        keep = ~np.isin(idx, hold_idx)
        train_idx, train_y = idx[keep], y[keep]
    else:
        held = holdout_mask(n_rows, holdout_size, random_state)[idx]
        train_idx, train_y, hold_idx, hold_y = idx[~held], y[~held], idx[held], y[held]
        if np.unique(train_y).shape[0] < 2 or hold_idx.shape[0] == 0:
            train_idx, train_y, hold_idx, hold_y = idx, y, idx[:0], y[:0]
    if np.unique(train_y).shape[0] < 2:
        raise ValueError("The training labels (not held out) cover only 1 class; label more items.")
    ex_idx, ex_y = _check_labels(n_rows, extra[0], extra[1], "extra_indices")
    ex_keep = ~np.isin(ex_idx, np.concatenate([train_idx, hold_idx]))
    fit_idx = np.concatenate([train_idx, ex_idx[ex_keep]])
    fit_y = np.concatenate([train_y, ex_y[ex_keep]])
    return train_idx, hold_idx, hold_y, fit_idx, fit_y


def _holdout_metrics(model: Any, X: Any, hold_idx: np.ndarray, hold_y: np.ndarray, n_fit: int):
    """Accuracy and macro F1 on the held-out rows, or None when nothing is held out."""
    if not hold_idx.shape[0]:
        return None
    pred = model.predict(X[hold_idx])
    return {
        "accuracy": float(accuracy_score(hold_y, pred)),
        "f1_macro": float(f1_score(hold_y, pred, average="macro")),
        "n_holdout": int(hold_idx.shape[0]),
        "n_train": int(n_fit),
    }


def _pool_clustering(
    X: Any,
    strategy: str,
    params: dict[str, Any],
    batch: int,
    seed: Any,
    cache: FeatureCache,
    featurizer: str,
    version: str | None,
) -> PoolClustering:
    """k clusters of all rows (k: the strategy's size parameter, else its default, else the
    batch size); they depend on the features only, so once per data version."""
    name, default = CLUSTERED[strategy]
    k = int(params.get(name) or default or batch)

    def compute() -> PoolClustering:
        return cluster_pool(X, k, random_state=seed)

    if version is None:
        return compute()
    return cache.get_or_compute(f"clusters:{featurizer}:{version}:{k}:{seed}", compute)


def _query_inputs(
    strategy: str,
    params: dict[str, Any],
    model: Any,
    base: Any,
    X: Any,
    split: tuple,
    pool_idx: np.ndarray,
    clustering: PoolClustering | None,
    random_state: Any,
) -> tuple[Any, dict[str, Any]]:
    """The model that scores the pool (a committee for committee strategies) and the keyword
    arguments of the strategy (``params`` minus ``n_members``)."""
    train_idx, _, _, fit_idx, fit_y = split
    query_model = model
    if strategy in COMMITTEES:
        n_members = int(params.pop("n_members", 5))
        query_model = fit_query_model(strategy, base, X[fit_idx], fit_y, n_members, random_state)
    params.pop("n_members", None)
    # Human labels last, in the caller's order (oldest first): ``auto`` measures stability
    # against the model without the most recent labels.
    order = np.r_[train_idx.shape[0] : fit_idx.shape[0], 0 : train_idx.shape[0]]
    state = strategy_state(
        strategy, X, fit_idx[order], fit_y[order], pool_idx, clustering, random_state
    )
    return query_model, state | params


def retrain_and_score(
    data: Any,
    labeled_indices: Any,
    labels: Any,
    *,
    strategy: str = DEFAULT_STRATEGY,
    batch_size: int = 20,
    random_state: int = 0,
    data_version: str | None = None,
    featurizer: str = "tfidf",
    embedding_cache_dir: Any = None,
    cache: FeatureCache | None = None,
    holdout_indices: Any = None,
    holdout_labels: Any = None,
    holdout_size: float = 0.2,
    extra_indices: Any = None,
    extra_labels: Any = None,
    estimator: Any = None,
    clustering: PoolClustering | None = None,
    strategy_params: dict[str, Any] | None = None,
) -> RescoreResult:
    """Fit on the human labels, score every row without a human label, measure on held-out ones.

    ``data``: all items, as texts (featurized once per ``data_version``, cached in ``cache``;
    ``featurizer="embeddings"`` keeps vectors in ``embedding_cache_dir`` and falls back to TF-IDF)
    or a feature matrix. ``labeled_indices``/``labels``: row positions, oldest first (``auto``
    compares with the model fitted without the latest labels), and their human labels. Held out:
    ``holdout_indices``/``holdout_labels`` if given, else the labeled rows in a fixed
    ``holdout_size`` share (:func:`holdout_mask`; none if fewer than 2 classes would remain, and
    ``metrics`` is None). ``extra_indices``/``extra_labels`` (confident weak labels) train only
    and stay in the pool. Cluster and region strategies cluster the pool once per data version.
    """
    t0 = time.perf_counter()
    strat = get_strategy(strategy)
    cache = DEFAULT_CACHE if cache is None else cache
    X, version, featurizer = _features(data, data_version, featurizer, cache, embedding_cache_dir)
    n_rows = X.shape[0]
    t_feat = time.perf_counter()
    params = dict(strategy_params or {})
    idx, y = _check_labels(n_rows, labeled_indices, labels, "labeled_indices")
    holdout, extra = (holdout_indices, holdout_labels), (extra_indices, extra_labels)
    split = _training_split(n_rows, idx, y, holdout, holdout_size, extra, random_state)
    _, hold_idx, hold_y, fit_idx, fit_y = split

    base = estimator if estimator is not None else make_classifier(random_state)
    model = clone(base).fit(X[fit_idx], fit_y)
    metrics = _holdout_metrics(model, X, hold_idx, hold_y, fit_idx.shape[0])
    t_fit = time.perf_counter()

    pool_idx = np.setdiff1d(np.arange(n_rows), np.concatenate([idx, hold_idx]))
    timings = {"features_s": t_feat - t0, "fit_s": t_fit - t_feat}
    n_train = int(fit_idx.shape[0])
    if pool_idx.shape[0] == 0:
        empty = np.empty(0)
        return RescoreResult(
            model, strategy, pool_idx, empty, empty, pool_idx, metrics, n_train, hold_idx, timings
        )
    batch = min(batch_size, pool_idx.shape[0])
    if clustering is None and strategy in CLUSTERED:
        clustering = _pool_clustering(
            X, strategy, params, batch, random_state, cache, featurizer, version
        )
    query_model, state = _query_inputs(
        strategy, params, model, base, X, split, pool_idx, clustering, random_state
    )
    pri = pool_priorities(strat, query_model, X[pool_idx], batch, **state)
    timings["score_s"] = time.perf_counter() - t_fit
    return RescoreResult(
        model=model,
        strategy=strategy,
        pool_indices=pool_idx,
        priority=pri.priority,
        score=pri.score,
        selected=pool_idx[pri.selected],
        metrics=metrics,
        n_train=n_train,
        holdout_indices=hold_idx,
        timings=timings,
    )
