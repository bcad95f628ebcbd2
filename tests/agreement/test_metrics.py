"""Agreement metrics on data with missing ratings, against reference implementations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from tests.alpha_reference import reference_alpha
from weak_supervision.agreement import (
    bootstrap_agreement,
    bootstrap_ci,
    category_counts,
    encode_ratings,
    fleiss_kappa,
    krippendorff_alpha,
    pairwise_cohen_kappa,
    percent_agreement,
    ratings_matrix,
    specific_agreement,
)
from weak_supervision.agreement.bootstrap import item_statistics, metrics_from_totals


def noisy_ratings(n_items: int, n_annotators: int, n_labels: int, missing: float, seed: int):
    """Annotators who copy a hidden truth 70% of the time; ``missing`` share of cells empty."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_items)
    noise = rng.integers(0, n_labels, (n_items, n_annotators))
    ratings = np.where(rng.random((n_items, n_annotators)) < 0.7, truth[:, None], noise)
    ratings = ratings.astype(float)
    ratings[rng.random(ratings.shape) < missing] = np.nan
    return ratings


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_alpha_equals_the_reference_with_missing_ratings(level: str) -> None:
    ratings = noisy_ratings(500, 6, 5, missing=0.4, seed=1) + 1.0
    ours = krippendorff_alpha(ratings, level)
    theirs = reference_alpha(ratings.T, level)
    assert ours == pytest.approx(theirs, abs=1e-10)


@pytest.mark.parametrize("shift", [0.0, -2.0, 0.5])
def test_alpha_on_negative_and_fractional_values_equals_the_reference(shift: float) -> None:
    ratings = noisy_ratings(300, 4, 6, missing=0.3, seed=7) + shift
    for level in ("nominal", "interval"):
        theirs = reference_alpha(ratings.T, level)
        assert krippendorff_alpha(ratings, level) == pytest.approx(theirs, abs=1e-10)
    assert encode_ratings(ratings).categories.tolist() == sorted(set(ratings[~np.isnan(ratings)]))


def test_alpha_is_nan_without_pairable_items_and_one_for_perfect_agreement() -> None:
    assert np.isnan(krippendorff_alpha([[1, np.nan], [np.nan, 2]]))
    assert krippendorff_alpha([[1, 1], [2, 2], [3, np.nan]]) == pytest.approx(1.0)


def test_pairwise_kappa_equals_scikit_learn_on_shared_items() -> None:
    ratings = noisy_ratings(300, 4, 3, missing=0.3, seed=2)
    table = pd.DataFrame(ratings, columns=["ann", "bob", "cat", "dan"])
    for weights in (None, "linear"):
        kappa = pairwise_cohen_kappa(table, weights=weights)
        assert list(kappa.columns) == ["ann", "bob", "cat", "dan"]
        assert np.allclose(np.diag(kappa), 1.0)
        for i, a in enumerate(table.columns):
            for j, b in enumerate(table.columns[i + 1 :], start=i + 1):
                both = ~np.isnan(ratings[:, i]) & ~np.isnan(ratings[:, j])
                expected = cohen_kappa_score(
                    ratings[both, i], ratings[both, j], labels=[0.0, 1.0, 2.0], weights=weights
                )
                assert kappa.loc[a, b] == pytest.approx(expected, abs=1e-12)
                assert kappa.loc[b, a] == kappa.loc[a, b]


def test_pairwise_kappa_is_nan_for_pairs_without_enough_shared_items() -> None:
    ratings = [[1, 1, np.nan], [2, 2, np.nan], [1, 2, np.nan], [np.nan, 1, 1]]
    kappa = pairwise_cohen_kappa(ratings)
    assert np.isnan(kappa.loc[0, 2]) and np.isnan(kappa.loc[1, 2])
    assert np.isfinite(kappa.loc[0, 1])


def test_percent_and_specific_agreement_of_two_annotators() -> None:
    a = ["pos", "pos", "neg", "neg", "pos", "neg", "pos", None]
    b = ["pos", "neg", "neg", "neg", "pos", "pos", "pos", "neg"]
    ratings = np.array([a, b], dtype=object).T
    assert percent_agreement(ratings) == pytest.approx(5 / 7)
    specific = specific_agreement(ratings)
    # Two annotators: 2 n_cc / (n_c. + n_.c), e.g. pos: 2 * 3 / (4 + 4).
    assert specific["pos"] == pytest.approx(2 * 3 / (4 + 4))
    assert specific["neg"] == pytest.approx(2 * 2 / (3 + 3))


def test_fleiss_kappa_ignores_items_with_one_rating() -> None:
    ratings = noisy_ratings(200, 5, 3, missing=0.0, seed=3)
    padded = np.vstack([ratings, [[0, np.nan, np.nan, np.nan, np.nan]] * 50])
    assert fleiss_kappa(padded) == pytest.approx(fleiss_kappa(ratings))
    assert percent_agreement(padded) == pytest.approx(percent_agreement(ratings))


def test_ratings_matrix_keeps_the_latest_answer() -> None:
    answers = pd.DataFrame(
        {
            "item": ["x", "x", "x", "y"],
            "annotator": ["ann", "bob", "ann", "bob"],
            "label": ["pos", "neg", "neg", "pos"],
            "created_at": pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-01", "2024-01-03"]),
        }
    )
    wide = ratings_matrix(answers, created_at="created_at")
    assert wide.loc["x", "ann"] == "pos"  # written on the 2nd, after the "neg" of the 1st
    assert wide.loc["x", "bob"] == "neg" and pd.isna(wide.loc["y", "ann"])


def test_bad_ratings_get_a_clear_error() -> None:
    with pytest.raises(ValueError, match="2-D"):
        fleiss_kappa([1, 2, 3])
    with pytest.raises(ValueError, match="one type"):
        krippendorff_alpha(np.array([[1, "a"], [2, "b"]], dtype=object))
    with pytest.raises(ValueError, match="numeric labels"):
        krippendorff_alpha(np.array([["a", "b"], ["b", "b"]], dtype=object), "interval")
    with pytest.raises(ValueError, match="level must be one of"):
        krippendorff_alpha([[1, 2]], "cardinal")
    with pytest.raises(ValueError, match="no column"):
        ratings_matrix(pd.DataFrame({"item": [1], "label": [1]}))


def test_bootstrap_statistics_give_the_metrics_exactly() -> None:
    ratings = noisy_ratings(400, 5, 4, missing=0.3, seed=4)
    encoded = encode_ratings(ratings)
    counts = category_counts(encoded)
    levels = ("nominal", "ordinal", "interval")
    pairable = np.asarray(counts.sum(axis=1)).ravel() >= 2
    stats = item_statistics(counts)
    # A bootstrap resample is a weight per item; the metrics of the weighted sums must equal the
    # metrics recomputed on the resampled rows.
    rows = np.random.default_rng(0).choice(np.flatnonzero(pairable), size=int(pairable.sum()))
    weights = np.bincount(rows, minlength=len(ratings))[pairable]
    totals = stats.T @ weights.astype(float)
    result = metrics_from_totals(totals, encoded.categories, levels)
    resampled = ratings[rows]
    assert result["percent_agreement"][0] == pytest.approx(percent_agreement(resampled))
    assert result["fleiss_kappa"][0] == pytest.approx(fleiss_kappa(resampled))
    for level in levels:
        expected = krippendorff_alpha(resampled, level)
        assert result[f"alpha_{level}"][0] == pytest.approx(expected)
    assert result["per_label"][0] == pytest.approx(specific_agreement(resampled).to_numpy())


def test_bootstrap_intervals_cover_the_estimate_and_are_reproducible() -> None:
    ratings = noisy_ratings(2000, 4, 3, missing=0.2, seed=5)
    encoded = encode_ratings(ratings)
    counts = category_counts(encoded)
    first = bootstrap_agreement(counts, encoded.categories, ("nominal", "ordinal"), 300)
    again = bootstrap_agreement(counts, encoded.categories, ("nominal", "ordinal"), 300)
    assert first.fleiss_kappa == again.fleiss_kappa and first.alpha == again.alpha
    assert first.per_label.equals(again.per_label)
    for ci in (first.percent_agreement, first.fleiss_kappa, *first.alpha.values()):
        assert ci.low < ci.estimate < ci.high
        assert ci.high - ci.low < 0.1
    assert first.fleiss_kappa.estimate == pytest.approx(fleiss_kappa(ratings))
    assert first.alpha["ordinal"].estimate == pytest.approx(krippendorff_alpha(ratings, "ordinal"))
    small = bootstrap_agreement(
        category_counts(encode_ratings(ratings[:200])), encoded.categories, n_resamples=300
    )
    assert small.fleiss_kappa.high - small.fleiss_kappa.low > first.fleiss_kappa.high - (
        first.fleiss_kappa.low
    )
    assert (first.per_label["low"] < first.per_label["high"]).all()


@pytest.mark.slow
def test_generic_bootstrap_agrees_with_the_fast_one() -> None:
    ratings = noisy_ratings(1000, 4, 3, missing=0.2, seed=6)
    encoded = encode_ratings(ratings)
    fast = bootstrap_agreement(category_counts(encoded), encoded.categories, n_resamples=400)
    generic = bootstrap_ci(fleiss_kappa, ratings, n_resamples=400, random_state=1)
    assert generic.estimate == pytest.approx(fast.fleiss_kappa.estimate)
    # Two independent sets of resamples: the interval ends agree to Monte Carlo error.
    assert generic.low == pytest.approx(fast.fleiss_kappa.low, abs=0.01)
    assert generic.high == pytest.approx(fast.fleiss_kappa.high, abs=0.01)
