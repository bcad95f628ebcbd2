"""Krippendorff's alpha written straight from his definitions (Krippendorff 2011, "Computing
Krippendorff's alpha-reliability"), loops and all: the independent reference our vectorised
``weak_supervision.agreement.krippendorff_alpha`` is checked against.

It replaces the ``krippendorff`` package in the tests because that package is GPL-3 and the
installed tree must stay permissive (a test fails on any GPL/AGPL package).
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np


def reference_alpha(reliability_data, level: str = "nominal") -> float:
    """Alpha of an (annotators x items) matrix with NaN for missing values, for the nominal,
    ordinal, interval and ratio metrics. Values are numbers; ordinal ranks them numerically."""
    data = np.asarray(reliability_data, dtype=float)
    units = [col[~np.isnan(col)] for col in data.T]
    units = [u for u in units if len(u) >= 2]  # only pairable values count
    coincidence: Counter[tuple[float, float]] = Counter()
    for values in units:
        m = len(values)
        for i, j in itertools.permutations(range(m), 2):
            coincidence[(values[i], values[j])] += 1.0 / (m - 1)
    totals: Counter[float] = Counter()
    for (c, _k), weight in coincidence.items():
        totals[c] += weight
    n = sum(totals.values())
    values = sorted(totals)

    def delta(c: float, k: float) -> float:
        if level == "nominal":
            return 0.0 if c == k else 1.0
        if level == "interval":
            return (c - k) ** 2
        if level == "ratio":
            return 0.0 if c + k == 0 else ((c - k) / (c + k)) ** 2
        if level == "ordinal":
            low, high = sorted((c, k))
            between = sum(totals[g] for g in values if low <= g <= high)
            return (between - (totals[low] + totals[high]) / 2.0) ** 2
        raise ValueError(f"unknown level {level!r}")

    observed = sum(w * delta(c, k) for (c, k), w in coincidence.items())
    expected = sum(totals[c] * totals[k] * delta(c, k) for c in values for k in values)
    if n <= 1 or expected == 0:
        return float("nan")
    return 1.0 - (n - 1) * observed / expected
