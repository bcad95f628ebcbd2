"""Reliability data for agreement metrics: items x annotators ratings, and their category counts.

The wide metrics take *ratings*: a 2-D array or DataFrame with one row per item and one column per
annotator, holding the label each annotator gave (NaN/None where an annotator did not label the
item). Labels may be numbers or strings. Categories are ordered by their sorted values unless
``categories`` gives the order (e.g. a project's ordered label set); that order is the one used by
ordinal metrics and weighted kappa. Note the orientation: the ``krippendorff`` package and
Krippendorff's papers write reliability data as coders x units; ours is its transpose.

Every metric reduces to the *category counts*: a sparse items x categories matrix of how many
annotators gave each category to each item (``category_counts``, or ``answer_counts`` from a long
table without building the wide matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class EncodedRatings:
    """Ratings as integer codes: ``codes[i, a]`` indexes ``categories``; -1 marks no rating."""

    codes: np.ndarray
    categories: np.ndarray

    @property
    def n_categories(self) -> int:
        return len(self.categories)


def latest_answers(
    answers: pd.DataFrame,
    item: str = "item",
    annotator: str = "annotator",
    label: str = "label",
    created_at: str | None = None,
) -> pd.DataFrame:
    """One row per (item, annotator): the latest answer (by ``created_at`` if given, else last row).

    Annotations are append-only, so an edit is a later row and only the last one counts.
    """
    wanted = [item, annotator, label] + ([created_at] if created_at else [])
    missing = [c for c in wanted if c not in answers.columns]
    if missing:
        raise ValueError(
            f"answers has no column(s) {missing}; it has {list(answers.columns)}. "
            "Pass the column names with item=, annotator=, label=, created_at=."
        )
    if created_at:
        answers = answers.sort_values(created_at, kind="stable")
    return answers.drop_duplicates(subset=[item, annotator], keep="last")


def ratings_matrix(
    answers: pd.DataFrame,
    item: str = "item",
    annotator: str = "annotator",
    label: str = "label",
    created_at: str | None = None,
) -> pd.DataFrame:
    """Pivot a long table (one row per answer) into items x annotators, NaN where missing.

    If an annotator answered an item several times, the latest answer counts (see
    :func:`latest_answers`).
    """
    latest = latest_answers(answers, item, annotator, label, created_at)
    return latest.pivot(index=item, columns=annotator, values=label)


def _codes_for(values: np.ndarray, categories) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``values`` into ``categories`` (given order), -1 for missing values."""
    categories = np.asarray(list(categories))
    index = pd.Index(categories)
    if not index.is_unique:
        raise ValueError(f"categories must be distinct, got {categories.tolist()}.")
    codes = index.get_indexer(values)
    unknown = (codes < 0) & pd.notna(values)
    if unknown.any():
        found = sorted({str(v) for v in values[unknown][:1000]})[:5]
        raise ValueError(
            f"ratings hold label(s) {found} that are not among categories "
            f"{categories.tolist()}; add them to categories or fix the ratings."
        )
    return codes, categories


# Integer labels spanning at most this many values are coded by offset (see below).
_MAX_INTEGER_RANGE = 1 << 16


def _small_integer_codes(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes for integer-valued numbers (ratings 1-5, class ids) by offset, not by hashing.

    The common case of numeric ratings; pd.factorize would build a hash table as large as the
    input (about 40 MB for 1M ratings), this needs a few passes and a small lookup table.
    None when the values are not integers in a small range.
    """
    if flat.dtype.kind not in "iuf" or flat.size == 0:
        return None
    missing = np.isnan(flat) if flat.dtype.kind == "f" else np.zeros(flat.shape, dtype=bool)
    if missing.all():
        return None
    low, high = np.nanmin(flat), np.nanmax(flat)
    if high - low >= _MAX_INTEGER_RANGE:
        return None
    shifted = flat - low
    shifted[missing] = -1
    offsets = shifted.astype(np.int32)
    if not np.array_equal(offsets, shifted):
        return None  # fractional values
    present = np.flatnonzero(np.bincount(offsets + 1)[1:])
    lookup = np.full(present[-1] + 2, -1, dtype=np.int64)
    lookup[present + 1] = np.arange(len(present))
    return lookup[offsets + 1], (present + low).astype(flat.dtype)


def encode_ratings(ratings: pd.DataFrame | np.ndarray | list, categories=None) -> EncodedRatings:
    """Validate a ratings matrix and turn its labels into integer codes.

    Codes index ``categories`` when given (its order is the label order), else the sorted labels.
    """
    values = ratings.to_numpy() if isinstance(ratings, pd.DataFrame) else np.asarray(ratings)
    if values.ndim != 2:
        raise ValueError(
            f"ratings must be 2-D (items x annotators), got shape {values.shape}; "
            "use ratings_matrix() to pivot a long table of answers."
        )
    flat = values.ravel()
    small_integers = _small_integer_codes(flat) if categories is None else None
    if categories is not None:
        codes, cats = _codes_for(flat, categories)
    elif small_integers is not None:
        codes, cats = small_integers
    else:
        # None and NaN both mean "not rated"; pd.factorize maps them to -1.
        try:
            codes, cats = pd.factorize(flat, sort=True, use_na_sentinel=True)
        except TypeError as exc:
            raise ValueError(
                "ratings mix label types that cannot be ordered (e.g. numbers and strings); "
                "convert all labels to one type first, or pass categories= in the order to use."
            ) from exc
        kinds = {isinstance(c, str) for c in cats}
        if len(kinds) > 1:
            raise ValueError(
                f"ratings mix string and non-string labels ({list(cats)[:6]}); 1 and '1' would "
                "count as different labels. Convert all labels to one type first."
            )
    return EncodedRatings(
        codes=np.asarray(codes, dtype=np.int64).reshape(values.shape),
        categories=np.asarray(cats),
    )


def counts_from_codes(item: np.ndarray, code: np.ndarray, n_items: int, n_categories: int):
    """Sparse items x categories counts of (item, category code) pairs (codes < 0 are skipped).

    Dense ``bincount`` when items x categories is not much larger than the number of ratings
    (the common case: few labels), so no (row, col) index arrays are materialised; COO otherwise.
    """
    n_categories = max(n_categories, 1)
    valid = code >= 0
    if n_items * n_categories <= 8 * max(len(code), 1):
        key = np.where(valid, item * n_categories + code, n_items * n_categories)
        dense = np.bincount(key, minlength=n_items * n_categories + 1)[:-1]
        return sp.csr_matrix(dense.reshape(n_items, n_categories).astype(np.float64))
    counts = sp.csr_matrix(
        (np.ones(int(valid.sum())), (item[valid], code[valid])), shape=(n_items, n_categories)
    )
    counts.sum_duplicates()
    return counts


def category_counts(encoded: EncodedRatings) -> sp.csr_matrix:
    """Sparse items x categories matrix: how many annotators gave each category to each item."""
    codes = encoded.codes
    n_items, n_annotators = codes.shape
    n_categories = max(encoded.n_categories, 1)
    if n_items * n_categories <= 8 * max(codes.size, 1):
        # The key of each rating, item * K + code, computed on the 2-D array (no index arrays).
        key = codes + (np.arange(n_items, dtype=np.int64) * n_categories)[:, None]
        key[codes < 0] = n_items * n_categories
        dense = np.bincount(key.ravel(), minlength=n_items * n_categories + 1)[:-1]
        return sp.csr_matrix(dense.reshape(n_items, n_categories).astype(np.float64))
    items = np.repeat(np.arange(n_items, dtype=np.int64), n_annotators)
    return counts_from_codes(items, codes.ravel(), n_items, n_categories)


def numeric_categories(categories: np.ndarray, metric: str) -> np.ndarray:
    """The category values as floats, for metrics that need distances between labels."""
    try:
        return np.asarray(categories).astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{metric} needs numeric labels, got categories {list(categories)[:5]}...; "
            "map the labels to numbers (their order or scale values) first, or use a nominal "
            "or ordinal level."
        ) from exc
