"""Exact and near-duplicate detection, checked against a plain-Python oracle on real comments."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from augment.duplicates import (
    exact_duplicate_ids,
    find_duplicates,
    linked_components,
    normalize_texts,
    shingle_jaccard,
)
from tests.augment.realdata import youtube_items


def words(text: str) -> list[str]:
    """The oracle's normalization: NFKC, lower case, split on anything but letters and digits."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    return [w for w in re.split(r"[\W_]+", text) if w]


def bigrams(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    if len(tokens) < 2:
        return {tuple(tokens)} if tokens else set()
    return {tuple(tokens[i : i + 2]) for i in range(len(tokens) - 1)}


def test_normalization_and_exact_duplicates():
    texts = [
        "Check  out MY channel!!!",
        "check out my channel",
        "Ça va TRÈS bien\ufeff",
        "ça va très bien",
        "",
        None,
        "ﬁne",
        "fine",
    ]
    normalized = [" ".join(t.split()) for t in normalize_texts(texts).to_pylist()]
    assert normalized[:4] == ["check out my channel"] * 2 + ["ça va très bien"] * 2
    codes = exact_duplicate_ids(texts)
    assert codes[0] == codes[1] and codes[2] == codes[3] and codes[6] == codes[7]
    assert codes[0] != codes[2] and codes[4] == -1 and codes[5] == -1


def test_shingle_jaccard_is_exact():
    texts = ["a b c d e", "a b c d f", "x y", "x"]
    similarity = shingle_jaccard(texts, np.array([[0, 1], [0, 2], [2, 3]]))
    assert np.allclose(similarity, [3 / 5, 0.0, 0.0])
    assert np.isclose(shingle_jaccard(["one two three"], np.array([[0, 0]]))[0], 1.0)


def test_near_duplicates_match_a_brute_force_oracle_on_youtube():
    texts = youtube_items()["text"].tolist()
    shingle_sets = [bigrams(t) for t in texts]
    vocabulary: dict[tuple[str, ...], int] = {}
    rows, cols = [], []
    for row, shingles in enumerate(shingle_sets):
        for shingle in shingles:
            rows.append(row)
            cols.append(vocabulary.setdefault(shingle, len(vocabulary)))
    matrix = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(texts), len(vocabulary)))
    intersection = (matrix @ matrix.T).tocoo()
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    a, b, shared = intersection.row, intersection.col, intersection.data
    jaccard = shared / (sizes[a] + sizes[b] - shared)
    similar = (a < b) & (jaccard >= 0.7)
    truth = np.column_stack([a[similar], b[similar]])
    assert len(truth) > 200

    links = find_duplicates(texts, threshold=0.7)
    components = linked_components(len(texts), keys=[links.exact], pairs=links.near_pairs)
    found = (components[truth[:, 0]] == components[truth[:, 1]]).mean()
    assert found >= 0.98
    # Every reported pair really is similar (no false positives from LSH).
    for left, right in links.near_pairs:
        union = shingle_sets[left] | shingle_sets[right]
        assert len(shingle_sets[left] & shingle_sets[right]) / len(union) >= 0.7


def test_threshold_none_finds_exact_duplicates_only():
    links = find_duplicates(["a b c d", "a b c e", "A B C D"], threshold=None)
    assert len(links.near_pairs) == 0
    assert links.exact[0] == links.exact[2] != links.exact[1]


def test_linked_components_joins_keys_and_pairs():
    groups = np.array([0, 0, 1, -1, 2])
    components = linked_components(5, keys=[groups], pairs=np.array([[1, 2]]))
    assert len(set(components[:3])) == 1
    assert len(set(components)) == 3
    assert pd.Series(components).is_monotonic_increasing
