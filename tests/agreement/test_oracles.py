"""Agreement metrics against published values (shared agreement_oracles), to their precision."""

from __future__ import annotations

import numpy as np
import pytest

from tests.agreement.conftest import oracle
from weak_supervision.agreement import (
    cohen_kappa,
    cohen_kappa_from_table,
    fleiss_kappa,
    fleiss_kappa_from_counts,
    krippendorff_alpha,
)


def assert_to_stated_precision(value: float, published: float) -> None:
    """``value`` equals ``published`` to as many decimals as were published."""
    text = repr(published)
    decimals = len(text.split(".")[1]) if "." in text else 0
    assert abs(value - published) <= 0.5 * 10.0**-decimals + 1e-12, (value, published)


ALPHA_CASES = [
    (name, level, expected)
    for name in (
        "krippendorff_2011_4x12.json",
        "krippendorff_2011_binary_2x10.json",
        "krippendorff_wikipedia_3x15.json",
    )
    for level, expected in oracle(name)["expected_alpha"].items()
]


@pytest.mark.parametrize(("name", "level", "expected"), ALPHA_CASES)
def test_krippendorff_alpha_matches_published(name: str, level: str, expected: float) -> None:
    # The oracle files are coders x units (Krippendorff's layout); ours is items x annotators.
    data = np.array(oracle(name)["data"], dtype=float).T
    assert_to_stated_precision(krippendorff_alpha(data, level), expected)


def test_alpha_takes_string_labels_and_none_for_missing() -> None:
    data = np.array(oracle("krippendorff_wikipedia_3x15.json")["data"], dtype=object).T
    letters = np.vectorize(lambda v: None if v is None else "abcd"[int(v) - 1], otypes=[object])
    expected = oracle("krippendorff_wikipedia_3x15.json")["expected_alpha"]["nominal"]
    assert_to_stated_precision(krippendorff_alpha(letters(data), "nominal"), expected)


def test_ordinal_alpha_follows_the_given_category_order() -> None:
    data = np.array(oracle("krippendorff_2011_4x12.json")["data"], dtype=float).T
    names = {1.0: "never", 2.0: "rarely", 3.0: "sometimes", 4.0: "often", 5.0: "always"}
    words = np.vectorize(lambda v: names.get(v), otypes=[object])(data)
    order = list(names.values())
    expected = oracle("krippendorff_2011_4x12.json")["expected_alpha"]["ordinal"]
    assert_to_stated_precision(krippendorff_alpha(words, "ordinal", categories=order), expected)
    # Another order is another scale: swapping the two ends changes ordinal alpha.
    swapped = ["always", "rarely", "sometimes", "often", "never"]
    assert krippendorff_alpha(words, "ordinal", categories=swapped) < expected - 0.05
    with pytest.raises(ValueError, match="not among categories"):
        krippendorff_alpha(words, "ordinal", categories=order[:4])


def test_fleiss_kappa_on_raw_ratings_matches_r_irr() -> None:
    case = oracle("fleiss1971_diagnoses_30x6.json")
    ratings = np.array(case["ratings"])
    assert_to_stated_precision(fleiss_kappa(ratings), case["expected_kappa"])
    values, totals = np.unique(ratings, return_counts=True)
    assert totals.tolist() == case["expected_category_totals"]


def test_fleiss_kappa_from_count_table_matches_wikipedia() -> None:
    case = oracle("fleiss_wikipedia_10x5.json")
    assert_to_stated_precision(fleiss_kappa_from_counts(np.array(case["counts"])), 0.2099)
    assert_to_stated_precision(fleiss_kappa_from_counts(case["counts"]), case["expected_kappa"])


def test_cohen_kappa_and_its_standard_error_match_sas() -> None:
    case = oracle("cohens_kappa_sas_3x3.json")
    expected = case["expected"]
    estimate = cohen_kappa_from_table(case["table"])
    assert_to_stated_precision(estimate.kappa, expected["kappa"])
    assert_to_stated_precision(estimate.ase, expected["ase"])
    assert_to_stated_precision(estimate.ci_low, expected["ci95"][0])
    assert_to_stated_precision(estimate.ci_high, expected["ci95"][1])
    weighted = cohen_kappa_from_table(case["table"], weights="linear")
    assert_to_stated_precision(weighted.kappa, expected["weighted_kappa_linear_weights_0_1_2"])


def test_cohen_kappa_on_label_vectors_matches_the_table() -> None:
    table = np.array(oracle("cohens_kappa_sas_3x3.json")["table"])
    rows, cols = np.divmod(np.repeat(np.arange(9), table.ravel()), 3)
    a = np.array(["low", "mid", "high"], dtype=object)[rows]
    b = np.array(["low", "mid", "high"], dtype=object)[cols]
    order = ["low", "mid", "high"]
    assert_to_stated_precision(cohen_kappa(a, b, categories=order), 0.4842)
    assert_to_stated_precision(cohen_kappa(a, b, weights="linear", categories=order), 0.4701)
    # Items one annotator did not label are left out.
    a_missing = np.concatenate([a, [None, "low"]])
    b_missing = np.concatenate([b, ["high", None]])
    assert cohen_kappa(a_missing, b_missing, categories=order) == pytest.approx(0.48416, abs=1e-5)
