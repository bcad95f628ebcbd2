"""Label propagation: label spreading (Zhou et al. 2004) over a sparse k-nearest-neighbour graph.

Seeds are human labels plus confident label-model labels; spreading reaches items no LF covers.
The graph is sparse (``n * n_neighbors`` edges), never the dense N x N RBF kernel. Sparse
high-dimensional features (TF-IDF) are first reduced with ``TruncatedSVD``.

Two graphs: ``"exact"`` is scikit-learn's ``LabelSpreading(kernel="knn")`` itself (brute-force
neighbour search, O(n^2)); ``"ann"`` finds the neighbours with a faiss IVF-Flat index (approximate,
MIT licence, Euclidean as scikit-learn) and runs scikit-learn's spreading iteration on that graph (``spread_on_graph``: the
same normalised graph and update, equal to ``LabelSpreading`` to 1e-12 on the same graph).
``"auto"`` (default) uses ``"ann"`` from ``ANN_FROM`` items on, when faiss is installed.
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


def reduce_features(
    X,
    n_components: int = 100,
    random_state: int = 0,
    dtype: type = np.float64,
    n_iter: int = 5,
) -> np.ndarray:
    """L2-normalised dense features: sparse input goes through TruncatedSVD first (in
    ``dtype``: float32 halves the SVD's time and memory, which the ann graph uses; ``n_iter``
    power iterations of the randomized SVD, scikit-learn's default 5)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    if sp.issparse(X):
        k = min(n_components, X.shape[1] - 1)
        svd = TruncatedSVD(n_components=k, n_iter=n_iter, random_state=random_state)
        X = svd.fit_transform(X.astype(dtype))
    return normalize(np.asarray(X, dtype=dtype))


ANN_FROM = 20_000


def faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


#: The ann graph's randomized SVD: 3 power iterations instead of 5 (a neighbour graph needs the
#: leading directions, not their exact values). 64 components instead of 100 saved little
#: (100k texts: 20.1 against 24.8 CPU s) and lost 5 points on the YouTube comments: not taken.
ANN_SVD_ITER = 3


def _ivf_neighbours(X: np.ndarray, k: int, nprobe: int, seed: int) -> np.ndarray:
    """Each row's ``k`` nearest rows (Euclidean) from a faiss IVF-Flat index: k-means cells
    (about 4 sqrt(n), at least 39 training rows each), ``nprobe`` nearest cells searched."""
    import faiss

    n, d = X.shape
    nlist = max(1, min(int(4 * np.sqrt(n)), n // 39))
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, nlist)
    index.cp.seed = seed
    rng = np.random.default_rng(seed)
    sample = X[np.sort(rng.choice(n, size=min(n, 64 * nlist), replace=False))]
    index.train(sample)
    index.add(X)
    index.nprobe = min(nprobe, nlist)
    return index.search(X, k)[1]


def _hnsw_neighbours(
    X: np.ndarray, k: int, hnsw_m: int, ef_construction: int, ef_search: int
) -> np.ndarray:
    import faiss

    index = faiss.IndexHNSWFlat(X.shape[1], hnsw_m)  # L2, as scikit-learn (zero rows included)
    index.hnsw.efConstruction = ef_construction
    index.add(X)
    index.hnsw.efSearch = max(ef_search, k)
    return index.search(X, k)[1]


def ann_knn_graph(
    features: np.ndarray,
    n_neighbors: int,
    index: str = "ivf",
    nprobe: int = 16,
    hnsw_m: int = 16,
    ef_construction: int = 40,
    ef_search: int = 48,
    n_threads: int | None = None,
    seed: int = 0,
) -> sp.csr_matrix:
    """Connectivity matrix of each row's ``n_neighbors`` approximate nearest neighbours, the
    row itself included (as scikit-learn's ``kneighbors_graph`` on its own fit data), with
    Euclidean distance (as scikit-learn; all-zero rows stay close to each other, which an
    inner-product index would not keep). ``index``: "ivf" (faiss IVF-Flat, the default: about
    4 sqrt(n) k-means cells, ``nprobe`` searched; 0.95 neighbour recall on 100k TF-IDF texts,
    benchmarks/results/propagation_scale.md) or "hnsw" (``hnsw_m``, ``ef_*``)."""
    import faiss

    if index not in ("ivf", "hnsw"):
        raise ValueError(f"index must be 'ivf' or 'hnsw', got {index!r}")
    if n_threads:
        faiss.omp_set_num_threads(n_threads)
    X = np.ascontiguousarray(features, dtype=np.float32)
    n = X.shape[0]
    if index == "ivf":
        neighbours = _ivf_neighbours(X, n_neighbors, nprobe, seed)
    else:
        neighbours = _hnsw_neighbours(X, n_neighbors, hnsw_m, ef_construction, ef_search)
    rows = np.arange(n)
    # every row is its own neighbour (distance 0 in scikit-learn); the index may miss it in ties
    has_self = (neighbours == rows[:, None]).any(axis=1)
    neighbours[~has_self, -1] = rows[~has_self]
    missing = neighbours < 0  # fewer than n_neighbors found: point at itself (no edge gained)
    neighbours[missing] = np.broadcast_to(rows[:, None], neighbours.shape)[missing]
    indptr = np.arange(0, n * n_neighbors + 1, n_neighbors)
    graph = sp.csr_matrix(
        (np.ones(n * n_neighbors), neighbours.ravel().astype(np.int64), indptr), shape=(n, n)
    )
    graph.sum_duplicates()
    graph.data[:] = 1.0
    return graph


def spread_on_graph(
    graph: sp.spmatrix,
    seeds: np.ndarray,
    alpha: float = 0.2,
    max_iter: int = 30,
    tol: float = 1e-3,
) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's ``LabelSpreading`` fit on a given connectivity ``graph``: ``(classes,
    distributions)``; rows no seed reaches are all zeros."""
    from scipy.sparse.csgraph import laplacian as csgraph_laplacian

    laplacian = csgraph_laplacian(graph.tocoo(), normed=True)
    laplacian = -laplacian
    laplacian.data[laplacian.row == laplacian.col] = 0.0
    S = laplacian.tocsr()
    classes = np.unique(seeds[seeds >= 0])
    dist = (seeds[:, None] == classes[None, :]).astype(np.float64)
    y_static = dist * (1 - alpha)
    previous = np.zeros_like(dist)
    for _ in range(max_iter):
        if np.abs(dist - previous).sum() < tol:
            break
        previous = dist
        dist = alpha * (S @ dist) + y_static
    normalizer = dist.sum(axis=1, keepdims=True)
    normalizer[normalizer == 0] = 1
    return classes, dist / normalizer


def propagate(
    X,
    seeds: np.ndarray,
    n_classes: int,
    n_neighbors: int = 10,
    alpha: float = 0.2,
    max_iter: int = 30,
    n_components: int = 100,
    n_jobs: int | None = None,
    graph: str = "auto",
) -> np.ndarray:
    """Class probabilities ``(n, n_classes)`` spread from ``seeds`` (-1 = unlabeled).

    ``graph``: "exact" (scikit-learn's brute-force kNN), "ann" (faiss HNSW) or "auto" ("ann"
    from ``ANN_FROM`` rows on when faiss is installed). Rows the graph does not connect to any
    seed are all zeros: no label, rather than a guess.
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
    if graph not in ("auto", "exact", "ann"):
        raise ValueError(f"graph must be 'auto', 'exact' or 'ann', got {graph!r}")
    if graph == "auto":
        graph = "ann" if len(seeds) >= ANN_FROM and faiss_available() else "exact"
    k = min(n_neighbors, len(seeds) - 1)
    if graph == "ann":
        features = reduce_features(X, n_components, dtype=np.float32, n_iter=ANN_SVD_ITER)
        if not faiss_available():
            raise ImportError("graph='ann' needs faiss: pip install faiss-cpu")
        classes, dist = spread_on_graph(
            ann_knn_graph(features, k, n_threads=n_jobs), seeds, alpha, max_iter
        )
        out = np.zeros((len(seeds), n_classes))
        out[:, classes.astype(int)] = dist
        return out
    features = reduce_features(X, n_components)
    model = LabelSpreading(
        kernel="knn",
        n_neighbors=k,
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
