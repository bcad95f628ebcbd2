"""Offline active learning with the gold labels as the oracle: learning curves per strategy.

For each seed the data is split once (stratified) into a pool and a held-out test part, shared
by every strategy (a paired comparison); each strategy starts from the same random initial
labels and then asks for ``batch_size`` labels per round until ``budget`` labels are used. After
every round a fresh classifier is trained on the labels so far and scored on the test part, so
all strategies are judged with the same model (committees are only used for choosing items).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from active_learning.clustering import PoolClustering, cluster_pool
from active_learning.models import make_classifier
from active_learning.retrain import CLUSTERED, COMMITTEES, fit_query_model, strategy_state
from active_learning.strategies import get_strategy

#: A batch size, or ``[(up_to_labels, batch), ...]``: ``batch`` labels per round while fewer
#: than ``up_to_labels`` are labeled (the last entry's batch beyond), e.g. small batches first.
BatchSchedule = int | Sequence[tuple[int, int]]

CURVE_COLUMNS = ["strategy", "seed", "round", "n_labels", "accuracy", "f1_macro", "query_s"]
Progress = Callable[[str, int, int], None]


def initial_labels(y_pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random pool positions; more random ones are added until 2 classes are present
    (what an annotator labelling in random order would do to get a first model)."""
    order = rng.permutation(y_pool.shape[0])
    n = min(n, order.shape[0])
    while n < order.shape[0] and np.unique(y_pool[order[:n]]).shape[0] < 2:
        n += 1
    if np.unique(y_pool[order[:n]]).shape[0] < 2:
        raise ValueError("The data holds only one class; active learning needs at least two.")
    return order[:n]


def batch_for(schedule: BatchSchedule, n_labeled: int) -> int:
    """The batch size a :data:`BatchSchedule` gives when ``n_labeled`` items are labeled."""
    if isinstance(schedule, int | np.integer):
        return int(schedule)
    for up_to, batch in schedule:
        if n_labeled < up_to:
            return int(batch)
    return int(schedule[-1][1])


def _check_schedule(schedule: BatchSchedule) -> None:
    steps = [(0, schedule)] if isinstance(schedule, int | np.integer) else list(schedule)
    if not steps:
        raise ValueError("batch_size schedule is empty; give an int or [(up_to, batch), ...].")
    for _, batch in steps:
        if int(batch) < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch}.")


def _check_inputs(
    X: Any, y: Any, budget: int, batch_size: BatchSchedule, test_size: float
) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise ValueError(f"y must hold one label per row of X ({X.shape[0]}); got shape {y.shape}.")
    _check_schedule(batch_size)
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size must be in (0, 1); got {test_size}.")
    n_pool = int(X.shape[0] * (1.0 - test_size))
    if not 2 <= budget <= n_pool:
        raise ValueError(
            f"budget must be between 2 and the pool size ({n_pool} rows after holding out "
            f"{test_size:.0%} for testing); got {budget}."
        )
    _, counts = np.unique(y, return_counts=True)
    if counts.shape[0] < 2 or counts.min() < 2:
        raise ValueError("Every class needs at least 2 rows for a stratified test split.")
    return y


def run_strategy(
    strategy: str,
    X: Any,
    y: np.ndarray,
    pool: np.ndarray,
    test: np.ndarray,
    start: np.ndarray,
    *,
    budget: int,
    batch_size: BatchSchedule,
    seed: int,
    estimator: Any,
    clustering: PoolClustering | None,
    strategy_params: dict[str, Any],
) -> list[dict[str, Any]]:
    """One learning curve: rows of ``CURVE_COLUMNS`` for rounds 0, 1, ... (rows of ``X``)."""
    strat = get_strategy(strategy)
    labeled = pool[start]
    in_pool = np.ones(X.shape[0], dtype=bool)
    in_pool[test] = False
    in_pool[labeled] = False
    rows = []
    for rnd in range(budget):
        model = clone(estimator).fit(X[labeled], y[labeled])
        pred = model.predict(X[test])
        row = {
            "strategy": strategy,
            "seed": seed,
            "round": rnd,
            "n_labels": int(labeled.shape[0]),
            "accuracy": float(accuracy_score(y[test], pred)),
            "f1_macro": float(f1_score(y[test], pred, average="macro")),
            "query_s": 0.0,
        }
        rows.append(row)
        n_next = min(batch_for(batch_size, labeled.shape[0]), budget - labeled.shape[0])
        if n_next <= 0:
            break
        t0 = time.perf_counter()
        unl = np.flatnonzero(in_pool)
        rs = np.random.default_rng([seed, rnd, 17])
        query_model = model
        if strategy in COMMITTEES:
            query_model = fit_query_model(
                strategy,
                estimator,
                X[labeled],
                y[labeled],
                int(strategy_params.get("n_members", 5)),
                rs,
            )
        state = strategy_state(strategy, X, labeled, y[labeled], unl, clustering, rs)
        state.update({k: v for k, v in strategy_params.items() if k != "n_members"})
        picked, _ = strat.select(query_model, X[unl], n_next, **state)
        row["query_s"] = time.perf_counter() - t0
        new = unl[picked]
        in_pool[new] = False
        labeled = np.concatenate([labeled, new])
    return rows


def simulate(
    X: Any,
    y: Any,
    strategies: Sequence[str],
    *,
    budget: int,
    batch_size: BatchSchedule,
    seeds: int | Sequence[int] = 5,
    test_size: float = 0.2,
    initial: int | None = None,
    estimator: Any = None,
    strategy_params: dict[str, dict[str, Any]] | None = None,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Learning curves of every strategy and seed as a DataFrame with ``CURVE_COLUMNS``.

    ``X``: features of all rows (e.g. TF-IDF fitted once on every text: unsupervised, so using
    the test rows' words leaks no labels). ``initial`` labels are drawn at random first (default:
    the first ``batch_size``); ``batch_size`` may be a schedule (:data:`BatchSchedule`).
    ``seeds``: a count (0..k-1) or explicit seeds. ``progress(strategy, seed, done)`` is called
    after each finished curve.
    """
    y = _check_inputs(X, y, budget, batch_size, test_size)
    names = list(dict.fromkeys(strategies))
    for name in names:
        get_strategy(name)  # unknown names fail before any work
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    if not seed_list:
        raise ValueError("seeds must name at least one seed.")
    estimator = make_classifier() if estimator is None else estimator
    params = strategy_params or {}
    initial = batch_for(batch_size, 0) if initial is None else initial
    rows: list[dict[str, Any]] = []
    done = 0
    for seed in seed_list:
        pool, test = train_test_split(
            np.arange(X.shape[0]), test_size=test_size, stratify=y, random_state=seed
        )
        pool = np.sort(pool)
        start = initial_labels(y[pool], max(initial, 2), np.random.default_rng(seed))
        clusterings: dict[tuple[str, int], PoolClustering] = {}
        for name in names:
            clustering = None
            if name in CLUSTERED:
                key, default = CLUSTERED[name]
                k = int(params.get(name, {}).get(key) or default or batch_for(batch_size, 0))
                if (key, k) not in clusterings:  # features only: once per seed and size
                    full = np.zeros(X.shape[0], dtype=np.int64)
                    c = cluster_pool(X[pool], k, random_state=seed)
                    full[pool] = c.labels
                    clusterings[key, k] = PoolClustering(
                        full, c.kmeans, c.reducer, c.sizes, c.spread, c.well_formed
                    )
                clustering = clusterings[key, k]
            rows += run_strategy(
                name,
                X,
                y,
                pool,
                test,
                start,
                budget=budget,
                batch_size=batch_size,
                seed=seed,
                estimator=estimator,
                clustering=clustering,
                strategy_params=params.get(name, {}),
            )
            done += 1
            if progress is not None:
                progress(name, seed, done)
    return pd.DataFrame(rows, columns=CURVE_COLUMNS)
