"""Scoring a pool part by part (active_learning.part_scoring): the labeled-only fit is the
in-process one, and for item-wise strategies the best of every part's best is the in-process
queue; strategies needing the pool rank only the candidates."""

from __future__ import annotations

import numpy as np
import pytest

from active_learning.feature_cache import FeatureCache
from active_learning.part_scoring import (
    BestRows,
    best_rows,
    fit_labeled,
    labeled_holdout,
    part_scorer,
    prefilter_of,
    rank_candidates,
    stable_uniform,
)
from active_learning.retrain import holdout_mask, retrain_and_score
from active_learning.text_features import TextFeaturizer
from tests.active_learning.conftest import ag_news

PART = 110  # 600 rows: 6 parts, the last one short


@pytest.fixture(scope="module")
def news():
    df = ag_news(600, seed=3)
    X = TextFeaturizer().fit_transform(df["text"].tolist())
    y = df["label"].to_numpy()
    rng = np.random.default_rng(1)
    labeled = rng.choice(len(y), 90, replace=False)  # labeling order, not sorted
    return X, y, labeled


def _in_parts(X, labeled, scorer, keep, arrival=None):
    """Each part's best unlabeled rows (item id = row number), merged in ``arrival`` order."""
    best = BestRows(keep)
    starts = list(range(0, X.shape[0], PART))
    for k in arrival or range(len(starts)):
        rows = np.arange(starts[k], min(starts[k] + PART, X.shape[0]))
        rows = rows[~np.isin(rows, labeled)]
        best.add(k, best_rows(scorer, X[rows], rows, keep))
    return best


def test_the_holdout_of_labeled_rows_is_the_whole_data_draw() -> None:
    rows = np.array([5, 900, 17, 333])
    assert np.array_equal(
        labeled_holdout(rows, ["a", "b", "a", "b"], 0.5, 3), holdout_mask(5000, 0.5, 3)[rows]
    )
    # Holding out would leave one class to train on: nothing is held out.
    assert not labeled_holdout([0, 1], ["a", "b"], 0.99).any()
    assert labeled_holdout([], []).shape == (0,)


@pytest.mark.parametrize("strategy", ["margin", "committee", "entropy"])
def test_item_wise_strategies_give_the_in_process_queue(news, strategy) -> None:
    X, y, labeled = news
    full = retrain_and_score(
        X, labeled, y[labeled], strategy=strategy, batch_size=5, cache=FeatureCache()
    )
    fit = fit_labeled(X[labeled], y[labeled], labeled, strategy=strategy)
    assert np.array_equal(labeled[fit.result.holdout_indices], full.holdout_indices)
    assert fit.result.metrics == full.metrics and fit.result.n_train == full.n_train
    assert prefilter_of(strategy) is None

    top_n = 40  # fewer than a part's unlabeled rows: each part returns only its best
    best = _in_parts(X, labeled, part_scorer(fit), top_n, arrival=[3, 0, 5, 1, 4, 2])
    assert best.n_pool == full.pool_indices.shape[0] and best.item_ids.shape[0] == top_n
    ranked = rank_candidates(
        fit, X[labeled], best.X, best.n_pool, batch_size=5, top_n=top_n, random_state=0
    )
    order = np.argsort(-full.priority, kind="stable")[:top_n]
    assert best.item_ids[ranked.order].tolist() == full.pool_indices[order].tolist()
    assert np.array_equal(ranked.priority, full.priority[order])
    assert np.allclose(ranked.score, full.score[order])


def test_merging_keeps_the_same_rows_whatever_order_parts_arrive(news) -> None:
    X, y, labeled = news
    fit = fit_labeled(X[labeled], y[labeled], labeled, strategy="margin")
    scorer = part_scorer(fit)
    a = _in_parts(X, labeled, scorer, 25)
    b = _in_parts(X, labeled, scorer, 25, arrival=[5, 4, 3, 2, 1, 0])
    assert a.item_ids.tolist() == b.item_ids.tolist() == sorted(a.item_ids.tolist())
    assert (a.X != b.X).nnz == 0
    # A part whose items are all labeled sends nothing but counts no pool items.
    empty = best_rows(scorer, None, np.empty(0, np.int64), 25)
    a.add(9, empty)
    assert empty.n_pool == 0 and a.item_ids.tolist() == b.item_ids.tolist()


@pytest.mark.parametrize("strategy", ["cluster", "auto", "random"])
def test_pool_strategies_rank_only_prefiltered_candidates(news, strategy) -> None:
    X, y, labeled = news
    fit = fit_labeled(X[labeled], y[labeled], labeled, strategy=strategy, random_state=4)
    scorer = part_scorer(fit, 4)
    assert scorer.prefilter == ("random" if strategy == "random" else "margin")
    best = _in_parts(X, labeled, scorer, 60)
    ranked = rank_candidates(
        fit, X[labeled], best.X, best.n_pool, batch_size=8, top_n=30, random_state=4
    )
    chosen = best.item_ids[ranked.order]
    assert len(set(chosen.tolist())) == 30 and not np.isin(chosen, labeled).any()
    assert np.all(np.diff(ranked.priority) < 0) and ranked.priority[0] == 1.0
    if strategy != "random":  # candidates are the 60 least certain of the whole pool
        plain = fit_labeled(X[labeled], y[labeled], labeled, strategy="margin", random_state=4)
        margin = part_scorer(plain)
        pool = np.setdiff1d(np.arange(X.shape[0]), labeled)
        keys = margin.keys(X[pool], pool)
        assert set(best.item_ids.tolist()) == set(pool[np.argsort(-keys)[:60]].tolist())


def test_the_random_prefilter_is_uniform_and_fixed() -> None:
    ids = np.arange(100_000)
    u = stable_uniform(ids, 7)
    assert np.array_equal(u, stable_uniform(ids, 7)) and not np.array_equal(
        u, stable_uniform(ids, 8)
    )
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
    assert np.histogram(u, bins=10, range=(0, 1))[0].min() > 9_500
