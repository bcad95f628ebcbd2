"""Label propagation: label spreading (Zhou et al. 2004) over a sparse k-nearest-neighbour graph.

Seeds are human labels plus confident label-model labels; spreading reaches items no LF covers.
The graph is sparse (``n * n_neighbors`` edges), never the dense N x N RBF kernel. Sparse
high-dimensional features (TF-IDF) are first reduced with ``TruncatedSVD``.

Two graphs: ``"exact"`` is scikit-learn's ``LabelSpreading(kernel="knn")`` itself (brute-force
neighbour search, O(n^2)); ``"ann"`` compares each row only with the rows of its nearest faiss
k-means cells (the candidates of an IVF-Flat index, MIT licence, Euclidean as scikit-learn),
cell by cell with matrix products, and runs scikit-learn's spreading iteration on that graph
(``spread_on_graph``: the same normalised graph and update, equal to ``LabelSpreading`` to 1e-12
on the same graph). ``"auto"`` (default) uses ``"ann"`` from ``ANN_FROM`` items on, when faiss
is installed.
"""

from __future__ import annotations

import os

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


#: Sparse input is reduced with a TruncatedSVD fitted on at most this many rows (a random
#: sample; every row is then projected): the leading directions of 20,000 short texts are those
#: of 100,000, and the fit no longer grows with n (100k TF-IDF texts: 0.6 CPU s against 2.2 for
#: a fit on all rows, benchmarks/results/propagation_scale.md).
SVD_FIT_ROWS = 20_000


def reduce_features(
    X,
    n_components: int = 100,
    random_state: int = 0,
    dtype: type = np.float64,
    n_iter: int = 5,
    fit_rows: int | None = SVD_FIT_ROWS,
) -> np.ndarray:
    """L2-normalised dense features: sparse input goes through TruncatedSVD first (in
    ``dtype``: float32 halves the SVD's time and memory, which the ann graph uses; ``n_iter``
    power iterations of the randomized SVD, scikit-learn's default 5), fitted on ``fit_rows``
    sampled rows when there are more (None: all rows). BLAS runs on one thread here: the
    randomized SVD's LAPACK calls on (k + 10)-row matrices gain nothing from threads and
    took 20-50 times longer with two threads on a busy machine."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize
    from threadpoolctl import threadpool_limits

    if sp.issparse(X):
        k = min(n_components, X.shape[1] - 1)
        X = sp.csr_matrix(X, dtype=dtype)
        svd = TruncatedSVD(n_components=k, n_iter=n_iter, random_state=random_state)
        with threadpool_limits(1):
            if fit_rows is not None and X.shape[0] > fit_rows:
                rng = np.random.default_rng(random_state)
                svd.fit(X[np.sort(rng.choice(X.shape[0], fit_rows, replace=False))])
                X = np.asarray(X @ svd.components_.T.astype(dtype))
            else:
                X = svd.fit_transform(X)
        # ours to change: normalised in place (a copy would be 400 MB more at 1M rows)
        return normalize(np.asarray(X, dtype=dtype), copy=False)
    return normalize(np.asarray(X, dtype=dtype))  # the caller's features stay as they were


ANN_FROM = 20_000

#: The ann graph's randomized SVD: 3 power iterations, as before the cell search (on the YouTube
#: comments 3 gave 79.5 on the exact graph and 79.0-80.8 on the ann graph over six k-means
#: seeds, against 76.8-77.7 with 5 or 7: benchmarks/results/propagation_scale.md).
ANN_SVD_ITER = 3


def faiss_available() -> bool:
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


#: The ann graph compares each row with at least this many rows (more cells searched on small
#: sets, where it costs little) and, where cells are large, with about this many at most:
#: cells hold about sqrt(n) / 2 rows, so at 1M rows 8 of 2,000 cells are searched instead of
#: 12 (the search grows as n sqrt(n); 176 CPU s at 1M with 12, benchmarks/results/
#: propagation_scale.md). Up to about 400k rows the cap does not bind.
MIN_CANDIDATES = 1_000
MAX_CANDIDATES = 4_000


def ivf_cells(n: int) -> int:
    """Number of k-means cells for ``n`` rows: about 2 sqrt(n), at least 39 rows per cell."""
    return max(1, min(int(2 * np.sqrt(n)), n // 39))


def _centroids(X: np.ndarray, nlist: int, seed: int, niter: int = 10) -> np.ndarray:
    """faiss k-means centroids of ``nlist`` cells, trained on 32 sampled rows per cell."""
    import faiss

    n, d = X.shape
    rng = np.random.default_rng(seed)
    sample = X[np.sort(rng.choice(n, size=min(n, 32 * nlist), replace=False))]
    kmeans = faiss.Kmeans(d, nlist, niter=niter, seed=seed, verbose=False)
    kmeans.cp.max_points_per_centroid = 32
    kmeans.cp.min_points_per_centroid = 1  # no warning for small samples; the size is chosen
    kmeans.train(sample)
    return kmeans.centroids


_NO_NEIGHBOUR = np.iinfo(np.int64).max  # sorts after every real candidate key


def _ivf_neighbours(X: np.ndarray, k: int, nprobe: int, seed: int, n_threads: int) -> np.ndarray:
    """Each row's ``k`` nearest rows (squared Euclidean) among the rows of its ``nprobe``
    nearest k-means cells (more or fewer to stay within ``MIN_CANDIDATES`` and
    ``MAX_CANDIDATES`` rows): the candidates of a faiss IVF-Flat search with those cells,
    searched cell by cell instead of row by row, so distances are one matrix product per cell
    (BLAS) rather than faiss's per-row scan (100k rows, 100-d, one thread: 4.6 CPU s at 0.93
    neighbour recall against faiss's 10.1 at 0.91). Rows with fewer than ``k`` candidates get
    -1 for the missing ones."""
    import faiss
    from threadpoolctl import threadpool_limits

    n = X.shape[0]
    if n >= 2**32:
        raise ValueError("the ann graph holds row numbers in 32 bits: at most 2**32 - 1 rows")
    nlist = ivf_cells(n)
    # MIN_CANDIDATES to MAX_CANDIDATES rows per search (cells hold n / nlist rows on average)
    nprobe = min(nprobe, max(1, MAX_CANDIDATES * nlist // n))
    nprobe = min(max(nprobe, -(-MIN_CANDIDATES * nlist // n)), nlist)
    probes = faiss.knn(X, _centroids(X, nlist, seed), nprobe)[1]  # (n, nprobe) cells per row
    home = probes[:, 0]
    members = np.argsort(home, kind="stable")
    member_bounds = np.searchsorted(home[members], np.arange(nlist + 1))
    flat = probes.ravel()  # position r * nprobe + j: row r's j-th cell
    visits = np.argsort(flat, kind="stable")
    visit_bounds = np.searchsorted(flat[visits], np.arange(nlist + 1))
    del probes, flat, home
    sq_norms = np.einsum("ij,ij->i", X, X)
    # Candidates as int64 keys: a non-negative float32 distance's bits (ordered as integers)
    # above a random relabelling of the row, so one integer partition selects the k nearest
    # and keeps their rows, 35% faster than an argpartition and a gather. Ties (duplicate
    # texts) go to random rows, not always to the lowest-numbered copies, which would make
    # those few copies hubs of the graph.
    label = np.random.default_rng(seed).permutation(n)
    row_of = np.argsort(label)
    best = np.full((n * nprobe, k), _NO_NEIGHBOUR, dtype=np.int64)

    def scan(cells: range) -> None:
        for c in cells:
            cand = members[member_bounds[c] : member_bounds[c + 1]]
            pos = visits[visit_bounds[c] : visit_bounds[c + 1]]
            if cand.size == 0 or pos.size == 0:
                continue
            rows = pos // nprobe
            D = X[rows] @ X[cand].T
            D *= -2.0
            D += sq_norms[cand]
            D += sq_norms[rows][:, None]
            np.maximum(D, 0.0, out=D)  # rounding below zero; zero keeps the bit order
            key = D.view(np.int32).astype(np.int64)
            key <<= 32
            key |= label[cand]
            kk = min(k, cand.size)
            if cand.size > kk:
                key.partition(kk - 1, axis=1)
            best[pos, :kk] = key[:, :kk]

    with threadpool_limits(1):  # one BLAS thread per scanning thread
        if n_threads <= 1:
            scan(range(nlist))
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(n_threads) as pool:
                # every cell's rows are written by one thread only; cells interleaved for balance
                list(pool.map(scan, [range(t, nlist, n_threads) for t in range(n_threads)]))
    best = best.reshape(n, nprobe * k)
    if nprobe > 1:
        best.partition(k - 1, axis=1)
    best = best[:, :k]
    missing = best == _NO_NEIGHBOUR
    best[missing] = 0
    return np.where(missing, -1, row_of[best & 0xFFFFFFFF])


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
    nprobe: int = 12,
    hnsw_m: int = 16,
    ef_construction: int = 40,
    ef_search: int = 48,
    n_threads: int | None = None,
    seed: int = 0,
) -> sp.csr_matrix:
    """Connectivity matrix of each row's ``n_neighbors`` approximate nearest neighbours, the
    row itself included (as scikit-learn's ``kneighbors_graph`` on its own fit data), with
    Euclidean distance (as scikit-learn; all-zero rows stay close to each other, which an
    inner-product index would not keep). ``index``: "ivf" (the default: faiss k-means cells,
    about 2 sqrt(n), each row compared with the rows of its ``nprobe`` nearest cells; 0.93
    neighbour recall on 100k TF-IDF texts, benchmarks/results/propagation_scale.md) or "hnsw"
    (faiss HNSW: ``hnsw_m``, ``ef_*``). ``n_threads``: scanning threads (default: all cores)."""
    import faiss

    if index not in ("ivf", "hnsw"):
        raise ValueError(f"index must be 'ivf' or 'hnsw', got {index!r}")
    threads = n_threads or os.cpu_count() or 1
    if n_threads:
        faiss.omp_set_num_threads(n_threads)
    X = np.ascontiguousarray(features, dtype=np.float32)
    n = X.shape[0]
    if index == "ivf":
        neighbours = _ivf_neighbours(X, n_neighbors, nprobe, seed, threads)
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

    ``graph``: "exact" (scikit-learn's brute-force kNN), "ann" (k-means cells, see
    :func:`ann_knn_graph`) or "auto" ("ann" from ``ANN_FROM`` rows on when faiss is installed).
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


def neighbour_graph(
    X,
    n_neighbors: int = 10,
    n_components: int = 100,
    n_jobs: int | None = None,
    graph: str = "auto",
) -> sp.csr_matrix:
    """The connectivity graph :func:`propagate` spreads over, built once for several seed sets
    (it does not depend on the seeds): "exact" is the graph ``LabelSpreading(kernel="knn")``
    builds (scikit-learn's brute-force kNN on the same features), "ann" :func:`ann_knn_graph`,
    "auto" as in :func:`propagate`. Spread with :func:`propagate_on_graph`."""
    if graph not in ("auto", "exact", "ann"):
        raise ValueError(f"graph must be 'auto', 'exact' or 'ann', got {graph!r}")
    n = X.shape[0]
    if n < 2:
        raise ValueError("a neighbour graph needs at least 2 items")
    if graph == "auto":
        graph = "ann" if n >= ANN_FROM and faiss_available() else "exact"
    k = min(n_neighbors, n - 1)
    if graph == "ann":
        if not faiss_available():
            raise ImportError("graph='ann' needs faiss: pip install faiss-cpu")
        features = reduce_features(X, n_components, dtype=np.float32, n_iter=ANN_SVD_ITER)
        return ann_knn_graph(features, k, n_threads=n_jobs)
    from sklearn.neighbors import NearestNeighbors

    features = reduce_features(X, n_components)
    nn = NearestNeighbors(n_neighbors=k, n_jobs=n_jobs).fit(features)
    return nn.kneighbors_graph(features, k, mode="connectivity").tocsr()


def propagate_on_graph(
    graph: sp.spmatrix,
    seeds: np.ndarray,
    n_classes: int,
    alpha: float = 0.2,
    max_iter: int = 30,
) -> np.ndarray:
    """:func:`propagate`'s class probabilities on a graph from :func:`neighbour_graph`."""
    seeds = np.asarray(seeds)
    if seeds.shape != (graph.shape[0],):
        raise ValueError(f"seeds must have one entry per graph row ({graph.shape[0]})")
    if not (seeds >= 0).any():
        raise ValueError("no seeds: give human labels or confident label-model labels")
    if seeds.max() >= n_classes:
        raise ValueError(f"seed label {seeds.max()} is out of range for {n_classes} classes")
    classes, dist = spread_on_graph(graph, seeds, alpha, max_iter)
    out = np.zeros((len(seeds), n_classes))
    out[:, classes.astype(int)] = dist
    return out
