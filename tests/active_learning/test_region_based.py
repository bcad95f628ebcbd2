"""Region-based allocation (after Cortes et al. 2019)."""

from __future__ import annotations

import numpy as np
import pytest

from active_learning.region_based import allocate


def test_allocation_follows_gains_and_sums_to_the_batch():
    alloc = allocate(np.array([0.6, 0.3, 0.1, 0.0]), np.array([100, 100, 100, 100]), 10)
    assert alloc.tolist() == [6, 3, 1, 0]


def test_allocation_respects_capacity_and_redistributes():
    alloc = allocate(np.array([0.9, 0.1, 0.0]), np.array([2, 50, 50]), 10)
    assert alloc.sum() == 10 and alloc[0] == 2 and alloc[1] == 8


def test_allocation_without_gain_spreads_evenly():
    alloc = allocate(np.zeros(4), np.array([5, 5, 5, 5]), 8)
    assert alloc.tolist() == [2, 2, 2, 2]


@pytest.mark.parametrize("n", [1, 7, 40])
def test_allocation_never_exceeds_what_exists(n):
    capacity = np.array([3, 0, 4])
    alloc = allocate(np.array([1.0, 5.0, 1.0]), capacity, n)
    assert (alloc <= capacity).all() and alloc.sum() == min(n, capacity.sum())
