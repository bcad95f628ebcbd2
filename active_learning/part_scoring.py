"""Rescoring a pool too large for one process: the model fitted on the labeled rows alone, each
part of the pool scored on its own, and only every part's best rows ranked together.

The caller (the app's partitioned retrain) holds the labeled rows' features; the pool's rows are
scored part by part elsewhere (on Dask workers) and only their best rows come back. Pure: arrays
in, arrays out, like :mod:`active_learning.retrain`, whose functions do the fitting and ranking:

1. :func:`fit_labeled`: the model :func:`~active_learning.retrain.retrain_and_score` would fit,
   with the same held-out rows (:func:`labeled_holdout`: the labeled rows' draws of
   :func:`~active_learning.retrain.holdout_mask` by their row numbers in the whole project) and
   the same held-out metrics;
2. :meth:`PartScorer.keys` and :func:`best_rows` on each part: a ranking key per pool row and
   the part's ``keep`` best rows;
3. :class:`BestRows` merges the parts' best rows as they arrive, keeping ``keep`` in all;
4. :func:`rank_candidates`: the strategy itself on those rows, priorities as the whole pool's.

For margin, least confidence, entropy and committee (:data:`EXACT`) the key is the strategy's own
score, which depends on the item alone, so the ``keep`` best rows of the pool are exactly the
best of the parts' best, and the ranking equals the in-process one. Strategies that compare items
with each other (auto, cluster, region, diversity) see only a prefiltered pool: the ``keep`` most
uncertain rows by the fitted model's margin; random draws ``keep`` rows by a fixed hash of the
item ids (a uniform sample) and orders them at random.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from active_learning.base import top_by_score
from active_learning.clustering import cluster_pool
from active_learning.models import make_classifier
from active_learning.priorities import pool_priorities
from active_learning.retrain import (
    CLUSTERED,
    COMMITTEES,
    RescoreResult,
    fit_query_model,
    holdout_mask,
    retrain_and_score,
    strategy_state,
)
from active_learning.strategies import get_strategy
from active_learning.uncertainty import margin_scores

#: Strategies whose score of an item depends on that item alone: scored exactly part by part.
EXACT = frozenset({"margin", "least_confidence", "entropy", "committee"})


def prefilter_of(strategy: str) -> str | None:
    """How a part's rows are ranked before the strategy sees them: None (by the strategy's own
    score, exact), "random" (a fixed hash of the item id) or "margin" (the model's uncertainty)."""
    name = get_strategy(strategy).name
    if name in EXACT:
        return None
    return "random" if name == "random" else "margin"


def labeled_holdout(
    rows: Any, labels: Any, holdout_size: float = 0.2, random_state: int = 0
) -> np.ndarray:
    """Which labeled rows are held out (a boolean mask aligned with ``rows``): the draws of
    :func:`~active_learning.retrain.holdout_mask` at ``rows`` (row numbers in the whole data),
    none when that would leave fewer than 2 classes to train on or hold nothing out, the rule
    :func:`~active_learning.retrain.retrain_and_score` applies when it picks the held-out rows."""
    rows = np.asarray(rows, dtype=np.int64).ravel()
    y = np.asarray(labels).ravel()
    if not rows.shape[0]:
        return np.zeros(0, dtype=bool)
    # The draws of the first rows do not depend on how many rows follow (holdout_mask).
    held = holdout_mask(int(rows.max()) + 1, holdout_size, random_state)[rows]
    if np.unique(y[~held]).shape[0] < 2 or not held.any():
        held[:] = False
    return held


@dataclass(frozen=True)
class LabeledFit:
    """The fitted model (``result``: model, held-out metrics, ``n_train``; its ``pool_indices``
    are empty), the model the strategy queries (a committee for committee strategies, else the
    model), and the rows of the labeled matrix trained on, with their labels, in labeling order."""

    result: RescoreResult
    query_model: Any
    strategy: str
    train_rows: np.ndarray
    train_labels: np.ndarray
    strategy_params: dict[str, Any] = field(default_factory=dict)


def fit_labeled(
    X_labeled: Any,
    labels: Any,
    rows: Any,
    *,
    strategy: str,
    random_state: int = 0,
    holdout_size: float = 0.2,
    strategy_params: dict[str, Any] | None = None,
) -> LabeledFit:
    """Fit on the labeled rows only, as :func:`~active_learning.retrain.retrain_and_score` does
    on all rows: ``X_labeled``/``labels`` oldest labeled first, ``rows`` their row numbers in the
    whole data (which rows are held out depends on them). Raises its errors (fewer than 2
    classes...)."""
    y = np.asarray(labels).ravel()
    held = labeled_holdout(rows, y, holdout_size, random_state)
    result = retrain_and_score(
        X_labeled,
        np.arange(y.shape[0]),
        y,
        strategy=strategy,
        random_state=random_state,
        holdout_indices=np.flatnonzero(held),
        holdout_labels=y[held],
    )
    train = np.flatnonzero(~held)
    params = dict(strategy_params or {})
    n_members = int(params.pop("n_members", 5))
    query_model = result.model
    if strategy in COMMITTEES:
        base = make_classifier(random_state)
        query_model = fit_query_model(
            strategy, base, X_labeled[train], y[train], n_members, random_state
        )
    return LabeledFit(result, query_model, strategy, train, y[train], params)


def stable_uniform(item_ids: Any, seed: int) -> np.ndarray:
    """A uniform [0, 1) number per item id that depends on the id and ``seed`` only."""
    with np.errstate(over="ignore"):
        z = np.asarray(item_ids, dtype=np.int64).astype(np.uint64) + np.uint64(
            seed % 2**32
        ) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@dataclass(frozen=True)
class PartScorer:
    """What ranks each part's pool rows (picklable: sent to every worker once)."""

    strategy: str
    model: Any  # the query model (exact strategies), else the fitted model
    prefilter: str | None
    random_state: int

    def keys(self, X: Any, item_ids: Any) -> np.ndarray:
        """The ranking key of each row (higher = better candidate)."""
        if self.prefilter == "random":
            return stable_uniform(item_ids, self.random_state)
        if self.prefilter == "margin":
            return margin_scores(self.model, X)
        return np.asarray(get_strategy(self.strategy).score_pool(self.model, X), dtype=float)


def part_scorer(fit: LabeledFit, random_state: int = 0) -> PartScorer:
    """The scorer of :func:`prefilter_of` the fit's strategy."""
    prefilter = prefilter_of(fit.strategy)
    model = fit.query_model if prefilter is None else fit.result.model
    return PartScorer(get_strategy(fit.strategy).name, model, prefilter, random_state)


@dataclass(frozen=True)
class PartBest:
    """One part's best pool rows: item ids, keys, their rows in the part's pool (ascending) and
    features, and how many pool rows the part had."""

    item_ids: np.ndarray
    keys: np.ndarray
    rows: np.ndarray
    X: Any
    n_pool: int


def best_rows(scorer: PartScorer, X: Any, item_ids: Any, keep: int) -> PartBest:
    """The ``keep`` best rows of one part's pool ``X`` (ties: earlier rows), in row order; an
    empty pool (``X`` may be None) gives none."""
    ids = np.asarray(item_ids, dtype=np.int64)
    if not ids.shape[0]:
        return PartBest(ids, np.empty(0), np.empty(0, np.int64), None, 0)
    keys = scorer.keys(X, ids)
    rows = np.sort(top_by_score(keys, min(keep, ids.shape[0])))
    return PartBest(ids[rows], keys[rows], rows, X[rows], int(ids.shape[0]))


def _stack(blocks: list[Any]) -> Any:
    if any(sp.issparse(b) for b in blocks):
        return sp.vstack(blocks, format="csr")
    return np.vstack(blocks)


class BestRows:
    """The ``keep`` best rows over every part (highest key; ties: earlier part, earlier row),
    merged as parts arrive in any order; never more than ``keep`` plus one part's rows held."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.n_pool = 0
        self.n_parts = 0
        self._ids = np.empty(0, np.int64)
        self._keys = np.empty(0)
        self._where = np.empty((0, 2), np.int64)  # (part, row in that part's pool)
        self._X: Any = None

    def add(self, part_index: int, best: PartBest) -> None:
        self.n_pool += best.n_pool
        self.n_parts += 1
        if not best.item_ids.shape[0]:
            return
        where = np.column_stack([np.full(best.rows.shape[0], part_index), best.rows])
        ids = np.concatenate([self._ids, best.item_ids])
        keys = np.concatenate([self._keys, best.keys])
        where = np.concatenate([self._where, where])
        X = best.X if self._X is None else _stack([self._X, best.X])
        top = np.lexsort((where[:, 1], where[:, 0], -keys))[: self.keep]
        top = top[np.lexsort((where[top, 1], where[top, 0]))]  # back in pool order
        self._ids, self._keys, self._where, self._X = ids[top], keys[top], where[top], X[top]

    @property
    def item_ids(self) -> np.ndarray:
        """The kept rows' item ids, in pool order (part, then row)."""
        return self._ids

    @property
    def X(self) -> Any:
        """The kept rows' features, aligned with :attr:`item_ids` (None if none)."""
        return self._X


@dataclass(frozen=True)
class Ranked:
    """The ``top_n`` best candidates, best first: ``order`` (rows of the candidates), their
    priorities as ranks in the whole pool (``1 - rank / n_pool``, as
    :func:`~active_learning.priorities.pool_priorities` gives) and the strategy's scores."""

    order: np.ndarray
    priority: np.ndarray
    score: np.ndarray


def rank_candidates(
    fit: LabeledFit,
    X_labeled: Any,
    X_candidates: Any,
    n_pool: int,
    *,
    batch_size: int,
    top_n: int,
    random_state: int = 0,
) -> Ranked:
    """Run the strategy on the candidates (in pool order) as on a pool, with the labeled rows as
    :func:`~active_learning.retrain.retrain_and_score` passes them (cluster and region strategies
    cluster the labeled rows and the candidates together), and keep the ``top_n`` best."""
    n_cand = 0 if X_candidates is None else X_candidates.shape[0]
    if not n_cand:
        empty = np.empty(0)
        return Ranked(np.empty(0, np.int64), empty, empty)
    strategy = fit.strategy
    n_lab = X_labeled.shape[0]
    X_all = _stack([X_labeled, X_candidates])
    pool = n_lab + np.arange(n_cand)
    batch = min(batch_size, n_cand)
    clustering = None
    if strategy in CLUSTERED:
        name, default = CLUSTERED[strategy]
        k = int(fit.strategy_params.get(name) or default or batch)
        clustering = cluster_pool(X_all, k, random_state=random_state)
    state = strategy_state(
        strategy, X_all, fit.train_rows, fit.train_labels, pool, clustering, random_state
    )
    pri = pool_priorities(
        get_strategy(strategy),
        fit.query_model,
        X_candidates,
        batch,
        **(state | fit.strategy_params),
    )
    order = np.argsort(-pri.priority, kind="stable")[:top_n]
    priority = 1.0 - np.arange(order.shape[0]) / max(n_pool, n_cand)
    return Ranked(order, priority, pri.score[order])
