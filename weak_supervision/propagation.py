"""Label propagation: scikit-learn's ``LabelSpreading`` over a sparse k-nearest-neighbour graph.

Seeds are human labels plus confident label-model labels; spreading reaches items no LF covers.
``LabelSpreading(kernel="knn")`` keeps the graph sparse (``n * n_neighbors`` edges), never the
dense N x N RBF kernel. Sparse high-dimensional features (TF-IDF) are first reduced with
``TruncatedSVD`` so the neighbour search is a dense, BLAS-friendly brute force.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def propagation_seeds(
    human_labels: np.ndarray | None,
    lm_probs: np.ndarray | None = None,
    threshold: float = 0.7,
    lm_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Seed labels (-1 = none): human labels where given, else the label model's arg-max where
    its probability is at least ``threshold`` (and ``lm_mask`` is True, e.g. an LF voted)."""
    if human_labels is None and lm_probs is None:
        raise ValueError("need human labels, label-model probabilities, or both")
    n = len(human_labels) if human_labels is not None else len(lm_probs)  # type: ignore[arg-type]
    seeds = np.full(n, -1, dtype=np.int64)
    if lm_probs is not None:
        lm_probs = np.asarray(lm_probs)
        if lm_probs.shape[0] != n:
            raise ValueError(f"lm_probs has {lm_probs.shape[0]} rows for {n} items")
        confident = lm_probs.max(axis=1) >= threshold
        if lm_mask is not None:
            confident &= np.asarray(lm_mask, dtype=bool)
        seeds[confident] = lm_probs[confident].argmax(axis=1)
    if human_labels is not None:
        human = np.asarray(human_labels)
        seeds[human >= 0] = human[human >= 0]
    return seeds


def reduce_features(X, n_components: int = 100, random_state: int = 0) -> np.ndarray:  # noqa: ANN001
    """L2-normalised dense features: sparse input goes through TruncatedSVD first."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    if sp.issparse(X):
        k = min(n_components, X.shape[1] - 1)
        X = TruncatedSVD(n_components=k, random_state=random_state).fit_transform(X)
    return normalize(np.asarray(X, dtype=np.float64))


def propagate(
    X,  # noqa: ANN001 - dense array or scipy sparse matrix
    seeds: np.ndarray,
    n_classes: int,
    n_neighbors: int = 10,
    alpha: float = 0.2,
    max_iter: int = 30,
    n_components: int = 100,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` spread from ``seeds`` (-1 = unlabeled).

    Rows the graph does not connect to any seed are all zeros: no label, rather than a guess.
    """
    import warnings

    from sklearn.semi_supervised import LabelSpreading

    seeds = np.asarray(seeds)
    if seeds.shape != (X.shape[0],):
        raise ValueError(
            f"seeds must have one entry per row of X ({X.shape[0]}), got {seeds.shape}"
        )
    seeded = seeds >= 0
    if not seeded.any():
        raise ValueError("no seeds: give human labels or confident label-model labels")
    if seeds.max() >= n_classes:
        raise ValueError(f"seed label {seeds.max()} is out of range for {n_classes} classes")
    features = reduce_features(X, n_components)
    model = LabelSpreading(
        kernel="knn",
        n_neighbors=min(n_neighbors, len(seeds) - 1),
        alpha=alpha,
        max_iter=max_iter,
        n_jobs=n_jobs,
    )
    with warnings.catch_warnings():  # unreached rows divide 0 by 0; handled below
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", UserWarning)  # max_iter convergence notice
        model.fit(features, seeds)
    dist = np.nan_to_num(model.label_distributions_, nan=0.0)
    out = np.zeros((len(seeds), n_classes))
    out[:, model.classes_.astype(int)] = dist
    return out
