"""The app's entry point: retrain on human labels, rescore the pool, measure on held-out labels."""

from __future__ import annotations

import numpy as np
import pytest

from active_learning.feature_cache import FeatureCache
from active_learning.retrain import holdout_mask, retrain_and_score
from tests.active_learning.conftest import ag_news


@pytest.fixture(scope="module")
def news():
    df = ag_news(600, seed=1)
    return df["text"].tolist(), df["label"].to_numpy()


def _labels(y, n, seed=0):
    idx = np.sort(np.random.default_rng(seed).choice(len(y), n, replace=False))
    return idx, y[idx]


@pytest.mark.slow
@pytest.mark.parametrize(
    "strategy", ["auto", "margin", "cluster", "committee", "region", "diversity"]
)
def test_rescores_every_unlabeled_item_with_the_batch_first(news, strategy):
    texts, y = news
    idx, labels = _labels(y, 80)
    r = retrain_and_score(
        texts,
        idx,
        labels,
        strategy=strategy,
        batch_size=10,
        cache=FeatureCache(),
        strategy_params={"min_region_labels": 5},
    )
    assert r.strategy == strategy
    assert not np.isin(r.pool_indices, idx).any()
    assert r.pool_indices.shape == r.priority.shape == r.score.shape
    assert np.unique(r.priority).shape[0] == r.priority.shape[0]
    assert ((r.priority > 0) & (r.priority <= 1)).all()
    top = r.pool_indices[np.argsort(-r.priority)[:10]]
    np.testing.assert_array_equal(top, r.selected)
    assert 0.0 <= r.metrics["accuracy"] <= 1.0
    assert r.metrics["n_holdout"] + r.n_train == 80


def test_new_labels_change_the_queue_order(news):
    texts, y = news
    cache = FeatureCache()
    idx, labels = _labels(y, 40)
    before = retrain_and_score(texts, idx, labels, batch_size=10, cache=cache)
    more = np.concatenate([idx, before.selected])
    after = retrain_and_score(texts, more, y[more], batch_size=10, cache=cache)
    assert not np.isin(before.selected, after.pool_indices).any()
    assert set(after.selected) != set(before.selected)
    assert cache.misses == 1 and cache.hits == 1  # featurized once for this data version


def test_holdout_is_fixed_per_row_so_metrics_stay_comparable(news):
    texts, y = news
    cache = FeatureCache()
    idx, labels = _labels(y, 100)
    a = retrain_and_score(texts, idx[:60], labels[:60], cache=cache, data_version="v1")
    b = retrain_and_score(texts, idx, labels, cache=cache, data_version="v1")
    held = holdout_mask(len(y), 0.2)
    assert a.metrics["n_holdout"] == held[idx[:60]].sum()
    assert b.metrics["n_holdout"] == held[idx].sum()
    assert set(a.holdout_indices) <= set(b.holdout_indices)
    np.testing.assert_array_equal(held, holdout_mask(len(y) + 50, 0.2)[: len(y)])


def test_explicit_holdout_and_extra_labels(news):
    texts, y = news
    idx, labels = _labels(y, 60)
    hold, hold_y = idx[:20], labels[:20]
    extra = np.setdiff1d(np.arange(100, 160), idx)
    r = retrain_and_score(
        texts,
        idx,
        labels,
        holdout_indices=hold,
        holdout_labels=hold_y,
        extra_indices=extra,
        extra_labels=y[extra],
        cache=FeatureCache(),
    )
    assert r.metrics["n_holdout"] == 20
    assert r.n_train == 40 + extra.shape[0]
    assert np.isin(extra, r.pool_indices).all()  # weakly labeled rows still need a human label


@pytest.mark.slow
def test_accepts_a_feature_matrix(ag_case):
    r = retrain_and_score(
        ag_case.X, ag_case.labeled, ag_case.y[ag_case.labeled], strategy="cluster", batch_size=5
    )
    assert r.selected.shape == (5,)


def test_clear_errors(news):
    texts, y = news
    with pytest.raises(ValueError, match="at least 2 classes"):
        retrain_and_score(texts, [0, 1], [1, 1], cache=FeatureCache())
    with pytest.raises(ValueError, match="one label per index"):
        retrain_and_score(texts, [0, 1, 2], [1, 2], cache=FeatureCache())
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 600\)"):
        retrain_and_score(texts, [0, 900], [1, 2], cache=FeatureCache())
    with pytest.raises(ValueError, match="Unknown query strategy 'best'.*margin"):
        retrain_and_score(texts, [0, 1], [1, 2], strategy="best", cache=FeatureCache())
    with pytest.raises(TypeError, match="sequence of texts"):
        retrain_and_score("just one string", [0, 1], [1, 2])
