"""Percent agreement, Cohen's kappa (one pair, every pair), Fleiss' kappa, per-label agreement.

Every wide function takes *ratings*, an items x annotators matrix with NaN/None where an annotator
did not label an item, and an optional ``categories`` giving the label order (see
:mod:`weak_supervision.agreement.data`). Items rated by fewer than two annotators carry no
information about agreement and are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.stats import norm
from sklearn.metrics import cohen_kappa_score

from weak_supervision.agreement.data import category_counts, encode_ratings

KappaWeights = Literal["linear", "quadratic"] | None

# Pairs of annotators whose K x K tables are held in memory at once by pairwise_kappa_tables.
_PAIR_CHUNK = 4096


def _pairable(counts: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """The rows of items with >= 2 ratings, and their numbers of ratings."""
    counts = sp.csr_matrix(counts, dtype=np.float64)
    n_rated = np.asarray(counts.sum(axis=1)).ravel()
    keep = n_rated >= 2
    return counts[keep], n_rated[keep]


def pairwise_agreement_per_item(counts: sp.csr_matrix, n_rated: np.ndarray) -> np.ndarray:
    """Fraction of ordered annotator pairs within each item that gave the same label."""
    same_pairs = np.asarray(counts.multiply(counts).sum(axis=1)).ravel() - n_rated
    return same_pairs / (n_rated * (n_rated - 1))


def percent_agreement_from_counts(counts) -> float:
    """Mean over items with >= 2 ratings of the share of annotator pairs that agree."""
    table, n_rated = _pairable(counts)
    if table.shape[0] == 0:
        return float("nan")
    return float(pairwise_agreement_per_item(table, n_rated).mean())


def percent_agreement(ratings, categories=None) -> float:
    """Mean over items (with >= 2 ratings) of the share of annotator pairs that agree.

    With two annotators this is the plain proportion of items both labelled the same; with more it
    is Fleiss' observed agreement P-bar.
    """
    return percent_agreement_from_counts(category_counts(encode_ratings(ratings, categories)))


def fleiss_kappa_from_counts(counts) -> float:
    """Fleiss' kappa from an items x categories table of how many annotators chose each category.

    Items may have different numbers of ratings (the usual generalisation: per-item agreement over
    that item's pairs, category shares pooled over all ratings); with a constant number it is
    exactly Fleiss (1971).
    """
    table = sp.csr_matrix(counts, dtype=np.float64)
    if table.nnz and table.data.min() < 0:
        raise ValueError("counts must be non-negative numbers of ratings per item and category.")
    table, n_rated = _pairable(table)
    if table.shape[0] == 0:
        return float("nan")
    observed = pairwise_agreement_per_item(table, n_rated).mean()
    shares = np.asarray(table.sum(axis=0)).ravel() / n_rated.sum()
    expected = float(np.square(shares).sum())
    if expected == 1.0:
        return float("nan")
    return float((observed - expected) / (1.0 - expected))


def fleiss_kappa(ratings, categories=None) -> float:
    """Fleiss' kappa of an items x annotators ratings matrix (missing ratings allowed)."""
    return fleiss_kappa_from_counts(category_counts(encode_ratings(ratings, categories)))


def specific_agreement_from_counts(counts) -> np.ndarray:
    """Per category: ``sum_i n_ic (n_ic - 1) / sum_i n_ic (n_i - 1)`` over items with >= 2 ratings.

    NaN for a category no one chose on such an item.
    """
    table, n_rated = _pairable(counts)
    agreeing = (
        np.asarray(table.multiply(table).sum(axis=0)).ravel()
        - np.asarray(table.sum(axis=0)).ravel()
    )
    possible = np.asarray(table.multiply((n_rated - 1)[:, None]).sum(axis=0)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        return agreeing / possible


def specific_agreement(ratings, categories=None) -> pd.Series:
    """Per-category agreement: given that one annotator chose c, how often another one did too.

    Uebersax's generalisation of positive/negative agreement to many annotators and categories;
    for two annotators and category c it is ``2 n_cc / (n_c. + n_.c)``.
    """
    encoded = encode_ratings(ratings, categories)
    values = specific_agreement_from_counts(category_counts(encoded))
    return pd.Series(
        values[: encoded.n_categories], index=encoded.categories, name="specific_agreement"
    )


def cohen_kappa(labels_a, labels_b, weights: KappaWeights = None, categories=None) -> float:
    """Cohen's kappa of two annotators over the items both labelled (NaN/None = not labelled).

    ``weights`` ("linear" or "quadratic") gives weighted kappa for ordinal labels; the order of
    categories is their sorted order unless ``categories`` lists it.
    """
    a = pd.Series(np.asarray(labels_a, dtype=object))
    b = pd.Series(np.asarray(labels_b, dtype=object))
    if len(a) != len(b):
        raise ValueError(f"labels_a has {len(a)} items but labels_b has {len(b)}; they must align.")
    both = a.notna().to_numpy() & b.notna().to_numpy()
    if both.sum() < 2:
        return float("nan")
    a, b = a[both].to_numpy(), b[both].to_numpy()
    if categories is None:
        categories = np.unique(np.concatenate([a, b]))
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(cohen_kappa_score(a, b, labels=list(categories), weights=weights))


def agreement_weights(n_categories: int, weights: KappaWeights) -> np.ndarray:
    """K x K agreement weights: identity (unweighted), or 1 - |i-j|/(K-1) (squared if quadratic)."""
    distance = np.abs(np.subtract.outer(np.arange(n_categories), np.arange(n_categories)))
    scale = max(n_categories - 1, 1)
    if weights is None:
        return (distance == 0).astype(np.float64)
    if weights == "linear":
        return 1.0 - distance / scale
    if weights == "quadratic":
        return 1.0 - (distance / scale) ** 2
    raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}.")


def kappa_from_tables(tables: np.ndarray, weights: KappaWeights = None) -> np.ndarray:
    """Cohen's kappa of each K x K contingency table in a (P, K, K) stack (NaN if undefined).

    The same value as scikit-learn's ``cohen_kappa_score``, which needs label vectors: computing
    it from tables lets all annotator pairs be done at once from one pass over the answers.
    """
    tables = np.asarray(tables, dtype=np.float64)
    w = agreement_weights(tables.shape[-1], weights)
    n = tables.sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = tables / n[:, None, None]
        observed = np.einsum("pij,ij->p", p, w)
        expected = np.einsum("pi,ij,pj->p", p.sum(axis=2), w, p.sum(axis=1))
        kappa = (observed - expected) / (1.0 - expected)
    return np.where(np.isclose(expected, 1.0), np.nan, kappa)


@dataclass(frozen=True)
class PairwiseKappa:
    """Cohen's kappa of every annotator pair (symmetric, 1 on the diagonal) and shared items."""

    kappa: pd.DataFrame
    n_items: pd.DataFrame


def pairwise_kappa_long(
    item: np.ndarray,
    annotator: np.ndarray,
    label: np.ndarray,
    annotators,
    n_categories: int,
    weights: KappaWeights = None,
    min_items: int = 2,
) -> PairwiseKappa:
    """Pairwise Cohen's kappa from integer-coded long answers (one per item and annotator).

    Pairs are formed within each item (sort by item, then match row j with row j+d for
    d = 1, 2, ...), so the cost is the number of co-rating pairs, not annotators^2 x items.
    """
    names = list(annotators)
    n_ann, k = len(names), max(n_categories, 1)
    order = np.lexsort((annotator, item))
    item, annotator, label = item[order], annotator[order], label[order]
    rows, cols = [], []
    for d in range(1, len(item)):
        same = item[d:] == item[:-d]
        if not same.any():
            break
        a1, a2 = annotator[:-d][same], annotator[d:][same]
        l1, l2 = label[:-d][same], label[d:][same]
        swap = a1 > a2  # store each unordered pair once, as (smaller, larger) annotator code
        a1, a2 = np.where(swap, a2, a1), np.where(swap, a1, a2)
        l1, l2 = np.where(swap, l2, l1), np.where(swap, l1, l2)
        rows.append(a1 * n_ann + a2)
        cols.append(l1 * k + l2)
    kappa = np.full((n_ann, n_ann), np.nan)
    shared = np.zeros((n_ann, n_ann), dtype=np.int64)
    if rows:
        tables = sp.coo_matrix(
            (np.ones(sum(len(r) for r in rows)), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_ann * n_ann, k * k),
        ).tocsr()
        tables.sum_duplicates()
        pairs = np.flatnonzero(np.diff(tables.indptr))
        for start in range(0, len(pairs), _PAIR_CHUNK):
            chunk = pairs[start : start + _PAIR_CHUNK]
            dense = tables[chunk].toarray().reshape(len(chunk), k, k)
            n = dense.sum(axis=(1, 2)).astype(np.int64)
            values = np.where(n >= max(min_items, 2), kappa_from_tables(dense, weights), np.nan)
            i, j = np.divmod(chunk, n_ann)
            kappa[i, j] = kappa[j, i] = values
            shared[i, j] = shared[j, i] = n
    np.fill_diagonal(kappa, 1.0)
    np.fill_diagonal(shared, np.bincount(annotator, minlength=n_ann))
    return PairwiseKappa(
        kappa=pd.DataFrame(kappa, index=names, columns=names),
        n_items=pd.DataFrame(shared, index=names, columns=names),
    )


def pairwise_cohen_kappa(
    ratings, weights: KappaWeights = None, min_items: int = 2, categories=None
) -> pd.DataFrame:
    """Cohen's kappa for every pair of annotators (columns), over the items both labelled.

    Returns a symmetric annotators x annotators DataFrame with 1.0 on the diagonal and NaN for pairs
    that share fewer than ``min_items`` items (or where kappa is undefined).
    """
    encoded = encode_ratings(ratings, categories)
    codes = encoded.codes
    names = (
        list(ratings.columns) if isinstance(ratings, pd.DataFrame) else list(range(codes.shape[1]))
    )
    item, annotator = np.nonzero(codes >= 0)
    return pairwise_kappa_long(
        item, annotator, codes[item, annotator], names, encoded.n_categories, weights, min_items
    ).kappa


@dataclass(frozen=True)
class KappaEstimate:
    """Cohen's kappa with its asymptotic standard error and normal confidence interval."""

    kappa: float
    ase: float
    ci_low: float
    ci_high: float
    confidence: float


def cohen_kappa_from_table(
    table, weights: KappaWeights = None, confidence: float = 0.95
) -> KappaEstimate:
    """Cohen's kappa of a contingency table (rows: annotator A's category, columns: B's).

    The kappa itself comes from scikit-learn; scikit-learn has no standard error, so the
    asymptotic one of Fleiss, Cohen & Everitt (1969) -- the ASE SAS PROC FREQ reports -- is
    computed here, with its Wald interval.
    """
    counts = np.asarray(table)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(
            f"table must be square (categories x categories), got shape {counts.shape}."
        )
    if np.any(counts < 0) or not np.allclose(counts, np.round(counts)):
        raise ValueError("table must hold non-negative integer counts of items.")
    counts = np.round(counts).astype(np.int64)
    k = counts.shape[0]
    rows, cols = np.divmod(np.repeat(np.arange(k * k), counts.ravel()), k)
    kappa = float(cohen_kappa_score(rows, cols, labels=list(range(k)), weights=weights))

    n = counts.sum()
    p = counts / n
    w = agreement_weights(k, weights)
    row_share, col_share = p.sum(axis=1), p.sum(axis=0)
    expected = float(row_share @ w @ col_share)
    w_row = w @ col_share  # weighted mean agreement of row category i
    w_col = row_share @ w  # weighted mean agreement of column category j
    spread = np.sum(p * (w - np.add.outer(w_row, w_col) * (1 - kappa)) ** 2)
    variance = (spread - (kappa - expected * (1 - kappa)) ** 2) / ((1 - expected) ** 2 * n)
    ase = float(np.sqrt(max(variance, 0.0)))
    z = float(norm.ppf(0.5 + confidence / 2))
    return KappaEstimate(kappa, ase, kappa - z * ase, kappa + z * ase, confidence)
