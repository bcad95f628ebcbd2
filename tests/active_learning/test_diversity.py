"""Batch-mode diversity: modAL's ranked batch, faster, and batches without near-duplicates."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import pairwise_distances

from active_learning import modal_compat
from active_learning.diversity import ranked_batch
from active_learning.strategies import get_strategy


@pytest.mark.slow
def test_full_pool_ranked_batch_equals_modals(ag_case):
    pool = ag_case.pool[:400]
    X_pool, X_lab = ag_case.X[pool], ag_case.X[ag_case.labeled]
    unc = 1.0 - ag_case.model.predict_proba(X_pool).max(axis=1)
    ours, _ = ranked_batch(X_pool, unc, 15, X_labeled=X_lab, candidate_factor=None)
    theirs = modal_compat.modal_uncertainty_batch_sampling(ag_case.model, X_pool, 15, X_lab)
    np.testing.assert_array_equal(ours, theirs)


def test_diverse_batch_has_no_near_duplicates_where_margin_has(ag_case):
    # A pool in which every item appears 3 times: uncertainty alone picks the copies together.
    X_pool = sp.vstack([ag_case.X_pool] * 3).tocsr()
    n = 30
    by_margin, _ = get_strategy("margin")(ag_case.model, X_pool, n)
    diverse, _ = get_strategy("diversity")(ag_case.model, X_pool, n, **ag_case.state)
    n_items = ag_case.X_pool.shape[0]
    assert np.unique(by_margin % n_items).shape[0] < n
    assert np.unique(diverse % n_items).shape[0] == n
    d = pairwise_distances(X_pool[diverse])
    assert d[np.triu_indices(n, 1)].min() > 0.1


def test_ranked_batch_without_labels_starts_with_the_most_uncertain(ag_case):
    unc = np.linspace(0, 1, ag_case.pool.shape[0])
    idx, _ = ranked_batch(ag_case.X_pool, unc, 5)
    assert idx[0] == ag_case.pool.shape[0] - 1
