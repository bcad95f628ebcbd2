"""The approximate-nearest-neighbour propagation graph against scikit-learn's exact one."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from weak_supervision.propagation import ann_knn_graph, propagate, spread_on_graph

pytest.importorskip("faiss")


def _clusters(n: int = 3000, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16)) * 3
    y = rng.integers(0, 3, n)
    X = centres[y] + rng.normal(size=(n, 16))
    seeds = np.where(rng.random(n) < 0.05, y, -1)
    return X, y, seeds


def test_spreading_on_a_graph_is_scikit_learns_label_spreading():
    from sklearn.neighbors import NearestNeighbors
    from sklearn.semi_supervised import LabelSpreading

    X, _, seeds = _clusters(800)
    reference = LabelSpreading(kernel="knn", n_neighbors=10, alpha=0.2, max_iter=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X, seeds)
    graph = NearestNeighbors(n_neighbors=10).fit(X).kneighbors_graph(X, 10, mode="connectivity")
    classes, dist = spread_on_graph(graph, seeds, alpha=0.2, max_iter=30)
    np.testing.assert_array_equal(classes, reference.classes_)
    np.testing.assert_allclose(dist, np.nan_to_num(reference.label_distributions_), atol=1e-12)


def test_ann_graph_finds_the_exact_neighbours():
    from sklearn.neighbors import NearestNeighbors

    X, _, _ = _clusters(3000)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    exact = NearestNeighbors(n_neighbors=10).fit(X).kneighbors_graph(X, 10, mode="connectivity")
    ann = ann_knn_graph(X, 10)
    assert (np.diff(ann.indptr) == 10).all()
    assert (ann.diagonal() == 1).all()  # every row is its own neighbour, as in scikit-learn
    assert ann.multiply(exact).sum() / exact.sum() >= 0.98


def test_ann_and_exact_propagation_agree():
    X, y, seeds = _clusters(3000)
    ann = propagate(X, seeds, 3, graph="ann")
    exact = propagate(X, seeds, 3, graph="exact")
    reached = (ann.sum(axis=1) > 0) & (exact.sum(axis=1) > 0)
    assert reached.mean() > 0.95
    assert (ann[reached].argmax(axis=1) == exact[reached].argmax(axis=1)).mean() >= 0.98
    assert (ann[reached].argmax(axis=1) == y[reached]).mean() >= 0.95
    with pytest.raises(ValueError, match="graph must be"):
        propagate(X, seeds, 3, graph="kd")


def test_hnsw_index_is_still_available_and_bad_names_are_refused():
    from sklearn.neighbors import NearestNeighbors

    X, _, _ = _clusters(2000)
    exact = NearestNeighbors(n_neighbors=10).fit(X).kneighbors_graph(X, 10, mode="connectivity")
    hnsw = ann_knn_graph(X, 10, index="hnsw")
    assert hnsw.multiply(exact).sum() / exact.sum() >= 0.98
    with pytest.raises(ValueError, match="index must be"):
        ann_knn_graph(X, 10, index="lsh")


def test_a_graph_built_once_gives_propagates_probabilities():
    from weak_supervision.propagation import neighbour_graph, propagate_on_graph

    X, _, seeds = _clusters(600)
    for graph in ("exact", "ann"):
        G = neighbour_graph(X, 10, graph=graph)
        for s in (seeds, np.where(np.arange(600) % 7 == 0, seeds, -1)):
            np.testing.assert_allclose(
                propagate_on_graph(G, s, 3), propagate(X, s, 3, graph=graph), atol=1e-10
            )
    with pytest.raises(ValueError, match="no seeds"):
        propagate_on_graph(G, np.full(600, -1), 3)
