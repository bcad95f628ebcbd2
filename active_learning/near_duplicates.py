"""Near-duplicate pairs by vector similarity (e.g. sentence embeddings): paraphrases and texts
that differ by more than a few words, which word-shingle MinHash (:mod:`augment.duplicates`)
misses. Rows are L2-normalised vectors; pairs are rows whose cosine similarity is at least
``threshold`` among each row's ``k`` nearest neighbours (exact inner-product search: faiss when
installed, else numpy in blocks)."""

from __future__ import annotations

import numpy as np

#: all-MiniLM-L6-v2: 0.95 joins rewordings of one message, not two messages on one topic.
DEFAULT_THRESHOLD = 0.95


def _neighbours(X: np.ndarray, k: int, block: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """(similarities, indices) of each row's ``k`` most similar rows (itself included)."""
    try:
        import faiss
    except ImportError:
        faiss = None
    if faiss is not None:
        index = faiss.IndexFlatIP(X.shape[1])
        index.add(X)
        return index.search(X, k)
    sims = np.empty((X.shape[0], k), np.float32)
    idx = np.empty((X.shape[0], k), np.int64)
    for start in range(0, X.shape[0], block):
        s = X[start : start + block] @ X.T
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        sims[start : start + block] = np.take_along_axis(s, top, axis=1)
        idx[start : start + block] = top
    return sims, idx


def vector_near_pairs(
    X: np.ndarray, threshold: float = DEFAULT_THRESHOLD, k: int = 6
) -> np.ndarray:
    """Row pairs (m x 2, i < j, unique) with cosine similarity >= ``threshold``."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of vectors; got shape {X.shape}.")
    n = X.shape[0]
    if n < 2:
        return np.empty((0, 2), np.int64)
    sims, idx = _neighbours(X, min(k, n))
    rows = np.repeat(np.arange(n), idx.shape[1])
    cols, s = idx.ravel(), sims.ravel()
    keep = (s >= threshold) & (cols != rows) & (cols >= 0)
    pairs = np.sort(np.column_stack([rows[keep], cols[keep]]), axis=1)
    return np.unique(pairs, axis=0) if pairs.shape[0] else pairs.astype(np.int64)
