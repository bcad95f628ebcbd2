"""Two-sample drift tests between two groups of items, on plain DataFrames (no Flask, no database).

Input: two frames with the item text in ``$text`` (absent for images), the human label in
``$label`` (None where there is none) and one column per metadata key. Per metadata column a test
fitted to its type: chi-square on a contingency table for categories (effect: Cramér's V),
Kolmogorov-Smirnov for numbers and dates (effect: the KS distance D). For text: KS on lengths and
on the out-of-vocabulary rate. A domain classifier (logistic regression on TF-IDF plus numeric
metadata) gives the cross-validated AUC of telling A from B. Labels: chi-square on the human labels.
:mod:`.compare` corrects the p-values and gives the verdict. scipy and scikit-learn are imported
inside the functions, so a web process that never compares groups never loads them.
"""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import pandas as pd

TEXT, LABEL = "$text", "$label"
# Each text's length in characters, when the database counted them and the texts themselves
# were read only for the samples (labelapp.services.drift.read); the report's entry of that name
# is the test on it.
TEXT_LENGTH = "$text_length"
Frame = TypeVar("Frame", pd.DataFrame, pd.Series)
MIN_EXPECTED = 5  # categories rarer than this (both groups together) are pooled as "(other)"
MAX_CATEGORIES = 50
IDENTIFIER_SHARE = 0.5  # a column with more distinct values than this share of rows is an id
FEW_NUMBERS = 10  # a numeric column with at most this many distinct values is tested as categories
# Items per group the domain classifier and the OOV test look at: the AUC's standard error at
# 5,000 against 5,000 is about 0.006, and the Python tokenizing stays a few seconds.
CLASSIFIER_SAMPLE = 5_000
PARSE_PROBE = 1_000  # values tried first when telling whether a column is numbers or dates
# Up to this many pairs n_a * n_b a KS p-value is scipy's exact one (method "auto"); above it the
# asymptotic Kolmogorov distribution, whose error there is far below any decision's margin, and
# the exact computation takes seconds (2,500 against 5,000 values: 1.7 s).
EXACT_KS_PAIRS = 1_000_000


def column_kind(a: pd.Series, b: pd.Series) -> tuple[str, pd.Series, pd.Series]:
    """``numeric`` (numbers, or ISO dates as seconds), ``category`` or ``identifier``, with the
    values as that kind (nulls dropped for numbers, keeping ``a``'s and ``b``'s index; a
    "(missing)" category for categories)."""
    a, b = _blank_as_missing(a), _blank_as_missing(b)  # a CSV's empty cell is a missing value
    both = pd.concat([a, b], ignore_index=True)
    mask = both.notna().to_numpy(dtype=bool)
    present = both[mask]
    if present.empty:
        return "identifier", a, b
    numbers = None if pd.api.types.is_bool_dtype(present) else _parse_all(present, _to_numbers)
    if numbers is not None:
        if numbers.nunique() > FEW_NUMBERS:
            return ("numeric", *_split(numbers, mask, a, b))
    elif pd.api.types.infer_dtype(present, skipna=False) == "string":
        dates = _parse_all(present, _dates)
        if dates is not None:
            return ("numeric", *_split(dates, mask, a, b))
    text = both.astype(object).where(mask, "(missing)").astype(str)
    if text.nunique() > max(MAX_CATEGORIES, IDENTIFIER_SHARE * len(text)):
        return "identifier", a, b
    return "category", text.iloc[: len(a)], text.iloc[len(a) :]


def _parse_all(values: pd.Series, parse: Any) -> pd.Series | None:
    """``parse`` of every value, or None if one does not parse (a first slice is tried alone:
    most columns that do not parse fail there, without parsing a million values)."""
    head = parse(values.iloc[:PARSE_PROBE])
    if head.isna().any():
        return None
    if len(values) <= PARSE_PROBE:
        return head
    rest = parse(values.iloc[PARSE_PROBE:])
    return None if rest.isna().any() else pd.concat([head, rest])


def _split(values: pd.Series, mask: np.ndarray, a: pd.Series, b: pd.Series) -> tuple:
    """``values`` (one per present value of ``a`` then ``b``) back under their own index."""
    positions = np.flatnonzero(mask)
    in_a = positions < len(a)
    array = values.to_numpy(dtype=float)
    return (
        pd.Series(array[in_a], index=a.index[positions[in_a]]),
        pd.Series(array[~in_a], index=b.index[positions[~in_a] - len(a)]),
    )


def _blank_as_missing(values: pd.Series) -> pd.Series:
    if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
        return values
    return values.where(values.astype(str) != "", None)


def _to_numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values, errors="coerce")


def _dates(values: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(values.astype(str), errors="coerce", utc=True, format="ISO8601")
    return parsed.astype("int64").where(parsed.notna()) / 1e9


def chi2_test(a: pd.Series, b: pd.Series) -> dict[str, Any]:
    """Chi-square test of independence of group and category; rare categories pooled."""
    from scipy.stats import chi2_contingency

    counts = pd.DataFrame({"a": a.value_counts(), "b": b.value_counts()}).fillna(0)
    rare = counts.sum(axis=1) < MIN_EXPECTED
    if rare.any():
        counts = pd.concat([counts[~rare], counts[rare].sum().to_frame("(other)").T])
        counts = counts[counts.sum(axis=1) > 0]
    if len(counts) < 2 or counts["a"].sum() == 0 or counts["b"].sum() == 0:
        return {"test": "chi2", "statistic": 0.0, "p": 1.0, "effect": 0.0}
    statistic, p, _, _ = chi2_contingency(counts.to_numpy().T)
    n = counts.to_numpy().sum()
    return {
        "test": "chi2",
        "statistic": float(statistic),
        "p": float(p),
        "effect": float(np.sqrt(statistic / n)),
    }


def ks_test(a: np.ndarray | pd.Series, b: np.ndarray | pd.Series) -> dict[str, Any]:
    """Two-sample Kolmogorov-Smirnov; the effect is the statistic D itself."""
    from scipy.stats import ks_2samp

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) == 0 or len(b) == 0:
        return {"test": "ks", "statistic": 0.0, "p": 1.0, "effect": 0.0}
    result = ks_2samp(a, b, method="auto" if len(a) * len(b) <= EXACT_KS_PAIRS else "asymp")
    return {
        "test": "ks",
        "statistic": float(result.statistic),
        "p": float(result.pvalue),
        "effect": float(result.statistic),
    }


def column_test(kind: str, a_values: pd.Series, b_values: pd.Series) -> dict[str, Any]:
    """The test fitted to the column's kind (:func:`column_kind`), ``none`` for an identifier."""
    if kind == "numeric":
        return ks_test(a_values, b_values)
    if kind == "category":
        return chi2_test(a_values, b_values)
    return {
        "test": "none",
        "statistic": None,
        "p": None,
        "effect": None,
        "reason": "identifier-like (almost every value distinct)",
    }


def oov_test(a: pd.Series, b: pd.Series, seed: int = 0) -> dict[str, Any]:
    """Out-of-vocabulary rate: a vocabulary from half of A; each held-out A text's and each B
    text's share of words outside it, compared with KS (same-distribution groups agree). ``a``
    and ``b`` are the groups' samples (:func:`draw_samples`)."""
    from sklearn.feature_extraction.text import CountVectorizer

    rng = np.random.default_rng(seed)
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if len(a) < 4 or len(b) < 2:
        return {
            "test": "ks",
            "statistic": 0.0,
            "p": 1.0,
            "effect": 0.0,
            "oov_a": None,
            "oov_b": None,
        }
    order = rng.permutation(len(a))
    fit, held = a.iloc[order[: len(a) // 2]], a.iloc[order[len(a) // 2 :]]
    analyzer = CountVectorizer().build_analyzer()
    vocabulary = {word for text in fit for word in analyzer(text)}

    def rates(texts: pd.Series) -> np.ndarray:
        words = [analyzer(t) for t in texts]
        return np.array(
            [sum(w not in vocabulary for w in ws) / len(ws) if ws else 0.0 for ws in words]
        )

    held_rates, b_rates = rates(held), rates(b)
    result = ks_test(held_rates, b_rates)
    return {**result, "oov_a": float(held_rates.mean()), "oov_b": float(b_rates.mean())}


def draw_samples(a: Frame, b: Frame, seed: int = 0) -> tuple[Frame, Frame]:
    """The rows of ``a`` and of ``b`` the out-of-vocabulary test and the domain classifier look
    at: all of a group up to :data:`CLASSIFIER_SAMPLE`, else that many at random (seeded), in
    their order, under a new RangeIndex."""
    rng = np.random.default_rng(seed)
    return _sample(a, rng), _sample(b, rng)


def _sample(values: Frame, rng: np.random.Generator) -> Frame:
    values = values.reset_index(drop=True)
    if len(values) <= CLASSIFIER_SAMPLE:
        return values
    rows = np.sort(rng.choice(len(values), CLASSIFIER_SAMPLE, replace=False))
    return values.iloc[rows].reset_index(drop=True)
