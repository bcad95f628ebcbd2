"""Every query strategy on real text: valid, unique, deterministic picks; what each promises."""

from __future__ import annotations

import numpy as np
import pytest

from active_learning import modal_compat
from active_learning.clustering import cluster_pool
from active_learning.strategies import DEFAULT_STRATEGY, STRATEGIES, get_strategy

N = 25


@pytest.mark.slow
@pytest.mark.parametrize("name", list(STRATEGIES))
def test_picks_are_valid_unique_and_deterministic(ag_case, name):
    strategy = get_strategy(name)
    first, scores = strategy(ag_case.model, ag_case.X_pool, N, random_state=3, **ag_case.state)
    again, scores2 = strategy(ag_case.model, ag_case.X_pool, N, random_state=3, **ag_case.state)
    assert first.shape == (N,) and scores.shape == (N,)
    assert np.issubdtype(first.dtype, np.integer)
    assert first.min() >= 0 and first.max() < ag_case.pool.shape[0]
    assert np.unique(first).shape[0] == N
    assert np.isfinite(scores).all()
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(scores, scores2)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(STRATEGIES))
def test_pool_scores_cover_every_item(ag_case, name):
    q = get_strategy(name).query(ag_case.model, ag_case.X_pool, N, random_state=1, **ag_case.state)
    assert q.pool_scores.shape == (ag_case.pool.shape[0],)
    assert np.isfinite(q.pool_scores).all()


def test_random_depends_on_the_seed_only(ag_case):
    a, _ = get_strategy("random")(None, ag_case.X_pool, N, random_state=1)
    b, _ = get_strategy("random")(None, ag_case.X_pool, N, random_state=2)
    assert set(a) != set(b)


def test_auto_is_the_default():
    assert DEFAULT_STRATEGY == "auto"
    assert STRATEGIES["auto"].batch_aware  # its batch is not the top of its pool scores


def test_margin_picks_what_modal_picks(ag_case):
    ours, scores = get_strategy("margin")(ag_case.model, ag_case.X_pool, N)
    theirs, _ = modal_compat.modal_margin_sampling(ag_case.model, ag_case.X_pool, N)
    assert set(ours) == set(theirs)
    assert np.all(np.diff(scores) <= 0)  # most uncertain first
    proba = np.sort(ag_case.model.predict_proba(ag_case.X_pool), axis=1)
    margin = proba[:, -1] - proba[:, -2]
    assert margin[ours].max() <= np.sort(margin)[N - 1] + 1e-12


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "modal_name"),
    [("least_confidence", "uncertainty_sampling"), ("entropy", "entropy_sampling")],
)
def test_uncertainty_measures_match_modal(ag_case, name, modal_name):
    import modAL.uncertainty

    ours, _ = get_strategy(name)(ag_case.model, ag_case.X_pool, N)
    theirs, _ = getattr(modAL.uncertainty, modal_name)(ag_case.model, ag_case.X_pool, n_instances=N)
    assert set(ours) == set(theirs)


def test_cluster_based_covers_more_clusters_than_margin(ag_case):
    clustering = cluster_pool(ag_case.X_pool, N, random_state=0)
    state = {"clusters": clustering.labels, "well_formed": clustering.well_formed}
    by_cluster, _ = get_strategy("cluster")(ag_case.model, ag_case.X_pool, N, **state)
    by_margin, _ = get_strategy("margin")(ag_case.model, ag_case.X_pool, N)
    covered = np.unique(clustering.labels[by_cluster]).shape[0]
    assert covered > np.unique(clustering.labels[by_margin]).shape[0]
    assert covered == min(N, int(clustering.well_formed.sum()))
    assert clustering.well_formed[clustering.labels[by_cluster]].all()


def test_cluster_based_rejects_misaligned_clusters(ag_case):
    with pytest.raises(ValueError, match="one integer cluster id per pool item"):
        get_strategy("cluster")(ag_case.model, ag_case.X_pool, N, clusters=np.zeros(3, int))


def test_region_based_spreads_the_batch_over_regions(ag_case):
    clustering = cluster_pool(ag_case.X, 6, random_state=0)
    state = {
        **ag_case.state,
        "regions": clustering.labels[ag_case.pool],
        "labeled_regions": clustering.labels[ag_case.labeled],
        "min_region_labels": 10,
    }
    idx, _ = get_strategy("region")(ag_case.model, ag_case.X_pool, N, **state)
    assert np.unique(state["regions"][idx]).shape[0] >= 3
    local, _ = get_strategy("region")(ag_case.model, ag_case.X_pool, N, local_models=True, **state)
    assert np.unique(local).shape[0] == N and set(local) != set(idx)
