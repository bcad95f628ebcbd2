"""Krippendorff's alpha for nominal, ordinal, interval and ratio labels, missing ratings allowed.

Vectorised through the coincidence matrix: with ``N`` the sparse items x categories count matrix
and ``m_u`` the number of ratings of item u, ``O = N.T @ diag(1/(m_u-1)) @ N - diag(...)``. That is
one sparse product -- no loop over items -- so 1M ratings take well under a second. The
``krippendorff`` package computes the same value (it is the reference in our tests and benchmark);
this version exists because it shares the encoding and counts with the other metrics and works
on sparse counts, so its memory does not grow with items x categories x categories.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp

from weak_supervision.agreement.data import category_counts, encode_ratings, numeric_categories

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS = ("nominal", "ordinal", "interval", "ratio")

# The ordinal and ratio expected disagreement needs a dense categories x categories matrix.
_MAX_DENSE_CATEGORIES = 5000


def coincidence_matrix(counts: sp.csr_matrix) -> sp.csr_matrix:
    """Krippendorff's coincidence matrix (categories x categories) from item x category counts."""
    counts = sp.csr_matrix(counts, dtype=np.float64)
    n_rated = np.asarray(counts.sum(axis=1)).ravel()
    pair_weight = np.zeros_like(n_rated)
    pairable = n_rated >= 2
    pair_weight[pairable] = 1.0 / (n_rated[pairable] - 1.0)
    weighted = sp.diags(pair_weight) @ counts
    coincidences = (counts.T @ weighted).tocsr()
    self_pairs = np.asarray(weighted.sum(axis=0)).ravel()
    return (coincidences - sp.diags(self_pairs)).tocsr()


def _squared_distance(
    level: str, c: np.ndarray, k: np.ndarray, values: np.ndarray, marginals: np.ndarray
) -> np.ndarray:
    """Krippendorff's delta^2 between category indices ``c`` and ``k`` (element-wise)."""
    if level == "nominal":
        return (c != k).astype(np.float64)
    if level == "interval":
        return (values[c] - values[k]) ** 2
    if level == "ratio":
        total = values[c] + values[k]
        with np.errstate(invalid="ignore", divide="ignore"):
            d = ((values[c] - values[k]) / total) ** 2
        return np.where(total == 0, 0.0, d)
    # ordinal: ranks only; the distance is the mass of values between c and k (inclusive) minus
    # half of the two end categories.
    cumulative = np.cumsum(marginals)
    lo, hi = np.minimum(c, k), np.maximum(c, k)
    between = cumulative[hi] - cumulative[lo] + marginals[lo]
    return (between - (marginals[c] + marginals[k]) / 2.0) ** 2


def _expected_disagreement(level: str, values: np.ndarray, marginals: np.ndarray) -> float:
    """sum_{c,k} n_c n_k delta^2(c, k); closed forms for nominal and interval keep it O(K)."""
    n = marginals.sum()
    if level == "nominal":
        return float(n * n - np.square(marginals).sum())
    if level == "interval":
        first = marginals @ values
        second = marginals @ np.square(values)
        return float(2.0 * (n * second - first * first))
    k = len(marginals)
    if k > _MAX_DENSE_CATEGORIES:
        raise ValueError(
            f"{level} alpha with {k} distinct values needs a {k}x{k} matrix; bin the values "
            f"(at most {_MAX_DENSE_CATEGORIES}) or use level='interval'."
        )
    c, kk = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    return float(marginals @ (_squared_distance(level, c, kk, values, marginals) @ marginals))


def alpha_from_coincidences(coincidences, level: Level = "nominal", values=None) -> float:
    """Krippendorff's alpha from a categories x categories coincidence matrix.

    ``values`` are the numeric category values (needed for "interval" and "ratio"; for the other
    levels only the order of the categories matters).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}.")
    matrix = sp.coo_matrix(coincidences)
    k = matrix.shape[0]
    values = np.arange(k, dtype=np.float64) if values is None else np.asarray(values, float)
    marginals = np.zeros(max(k, 1))
    np.add.at(marginals, matrix.row, matrix.data)
    n_pairable = marginals.sum()
    if n_pairable <= 1:
        return float("nan")
    observed = float(
        matrix.data @ _squared_distance(level, matrix.row, matrix.col, values, marginals)
    )
    expected = _expected_disagreement(level, values, marginals)
    if expected == 0:
        return float("nan")
    return 1.0 - (n_pairable - 1.0) * observed / expected


def alpha_from_counts(counts, level: Level = "nominal", categories=None) -> float:
    """Krippendorff's alpha from an items x categories count matrix (see ``category_counts``).

    ``categories`` are the category values in column order; needed for "interval" and "ratio".
    """
    values = None
    if level in ("interval", "ratio"):
        if categories is None:
            raise ValueError(f"{level} alpha from counts needs categories= (the numeric values).")
        values = numeric_categories(categories, f"{level} alpha")
    return alpha_from_coincidences(coincidence_matrix(counts), level, values)


def krippendorff_alpha(ratings, level: Level = "nominal", categories=None) -> float:
    """Krippendorff's alpha of an items x annotators matrix (NaN/None = not rated).

    ``level`` is the scale of the labels: "nominal" (categories), "ordinal" (ordered: by
    ``categories`` if given, else by sorted value), "interval" or "ratio" (numeric distances).
    Returns NaN when no item has two ratings or every rating has the same value.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}.")
    encoded = encode_ratings(ratings, categories)
    return alpha_from_counts(category_counts(encoded), level, encoded.categories)
