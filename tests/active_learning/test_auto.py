"""The ``auto`` strategy: typical items covering every cluster at the cold start, diverse margin
sampling once the model's predictions have stabilised, and not worse than random on real data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from active_learning.auto import auto_phase, auto_query, diverse_margin, stability
from active_learning.curves import area_under_curve
from active_learning.models import make_classifier
from active_learning.simulation import batch_for, simulate
from active_learning.strategies import get_strategy
from active_learning.text_features import TextFeaturizer
from tests.active_learning.conftest import sms_spam


def blobs(n_per: int = 60, k: int = 6, dim: int = 8, seed: int = 0):
    """``k`` well-separated Gaussian blobs: (X, blob id per row, blob centres)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim)) * 10
    X = np.vstack([c + rng.normal(size=(n_per, dim)) for c in centres])
    return X, np.repeat(np.arange(k), n_per), centres


def test_cold_start_takes_one_typical_item_from_every_cluster():
    X, blob, centres = blobs()
    idx, scores = get_strategy("auto")(None, X, 6, random_state=0)
    assert sorted(blob[idx]) == list(range(6))  # every cluster covered, none twice
    dist = np.linalg.norm(X - centres[blob], axis=1)
    for i in idx:  # typical: nearer its centre than most of its cluster
        assert dist[i] <= np.quantile(dist[blob == blob[i]], 0.3)
    assert np.all(scores > 0)


def test_cold_start_prefers_clusters_no_label_covers():
    X, blob, _ = blobs()
    labeled = np.flatnonzero(blob < 3)[::60]  # one label in each of clusters 0-2
    pool = np.setdiff1d(np.arange(X.shape[0]), labeled)
    y = (blob[labeled] % 2).astype(int)
    q = auto_query(None, X[pool], 3, X_labeled=X[labeled], y_labeled=y, random_state=1)
    assert sorted(blob[pool][q.indices]) == [3, 4, 5]


def test_stability_is_kappa_against_the_model_without_the_last_batch():
    X, blob, _ = blobs(k=2)
    y = blob
    order = np.random.default_rng(0).permutation(X.shape[0])
    Xl, yl = X[order[:40]], y[order[:40]]
    model = LogisticRegression().fit(Xl, yl)
    assert stability(model, X, Xl, yl, recent=10) == pytest.approx(1.0)
    # The last 10 labels flip every prediction the earlier 30 would give: kappa far below 0.
    flipped = yl.copy()
    flipped[:30] = 1 - flipped[:30]
    model_now = LogisticRegression().fit(Xl[30:], yl[30:])  # (any fitted model of the class)
    kappa = stability(model_now, X, Xl, flipped, recent=10)
    assert kappa is not None and kappa < 0
    assert stability(None, X, Xl, yl, 10) is None
    assert stability(model, X, Xl[:12], np.r_[np.zeros(2), yl[2:12]], recent=10) is None


@pytest.mark.slow
def test_unstable_model_gets_typical_items_stable_one_gets_diverse_margin():
    X, blob, _ = blobs(k=2, n_per=200)
    y = blob
    rng = np.random.default_rng(3)
    lab = rng.permutation(X.shape[0])[:60]
    pool = np.setdiff1d(np.arange(X.shape[0]), lab)
    model = LogisticRegression().fit(X[lab], y[lab])
    state = {"X_labeled": X[lab], "y_labeled": y[lab], "random_state": 0}
    assert auto_phase(model, X[pool], 10, **state) == "stable"
    q = auto_query(model, X[pool], 10, **state)
    margin = np.abs(np.diff(model.predict_proba(X[pool]), axis=1)).ravel()
    np.testing.assert_allclose(q.pool_scores, 1.0 - margin, atol=1e-12)
    assert set(q.indices) <= set(np.argsort(margin, kind="stable")[:100])  # the 10n most uncertain
    # Labels whose earlier part contradicts the model: the previous round's model disagrees.
    bad = {**state, "y_labeled": np.r_[1 - y[lab][:50], y[lab][50:]]}
    assert auto_phase(model, X[pool], 10, **bad) == "cold"


def test_diverse_margin_does_not_spend_a_batch_on_duplicates():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(200, 5))
    dup = np.repeat(base[:1], 30, axis=0)  # 30 copies of one point
    X = np.vstack([dup, base])
    score = np.r_[np.full(30, 0.99), rng.random(200) * 0.9]  # the copies are most uncertain
    pick = diverse_margin(X, score, 10, candidate_factor=10, seed=0)
    assert len(set(pick)) == 10
    assert (pick < 30).sum() == 1  # one copy, then other regions
    plain = np.argsort(-score, kind="stable")[:10]
    assert (plain < 30).sum() == 10  # what plain margin would have asked for


def test_batch_schedule():
    schedule = [(100, 10), (300, 25), (10**9, 50)]
    assert [batch_for(schedule, n) for n in (0, 99, 100, 299, 300, 5000)] == [
        10,
        10,
        25,
        25,
        50,
        50,
    ]
    assert batch_for(20, 1234) == 20
    with pytest.raises(ValueError, match="at least 1"):
        simulate(
            np.eye(10), np.r_[np.zeros(5), np.ones(5)], ["random"], budget=6, batch_size=[(5, 0)]
        )


@pytest.mark.slow
def test_auto_is_not_worse_than_random_on_sms_spam():
    """Quality on real data: 1,500 SMS (TF-IDF), 2 seeds, budget 150: auto's area under the
    learning curve is at least random's on every seed."""
    df = sms_spam(1500, seed=1)
    X = TextFeaturizer().fit_transform(df["text"])
    y = df["label"].to_numpy()
    curves = simulate(
        X,
        y,
        ["random", "auto"],
        budget=150,
        batch_size=[(60, 10), (10**9, 20)],
        seeds=[0, 1],
        initial=10,
        estimator=make_classifier(),
    )
    for seed, c in curves.groupby("seed"):
        auc = {
            s: area_under_curve(g["n_labels"].to_numpy(), g["accuracy"].to_numpy())
            for s, g in c.groupby("strategy")
        }
        assert auc["auto"] >= auc["random"], (seed, auc)
