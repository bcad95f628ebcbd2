"""A noise-aware end model: a classifier trained on probabilistic labels via sample weights.

Each training item appears once per class, weighted by its probability of that class, so a
0.55/0.45 item teaches far less than a 0.99/0.01 one (the expected loss under the label model).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def soft_label_training_set(X, probs: np.ndarray, min_weight: float = 1e-3):  # noqa: ANN001, ANN201
    """``(X_rep, y_rep, weights)``: rows of ``X`` repeated per class with weight P(class)."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != X.shape[0]:
        raise ValueError(f"probs must be (n_items, n_classes) for {X.shape[0]} items")
    rows, classes = np.nonzero(probs >= min_weight)
    X_rep = X[rows] if sp.issparse(X) else np.asarray(X)[rows]
    return X_rep, classes, probs[rows, classes]


def fit_end_model(X, probs: np.ndarray, estimator=None):  # noqa: ANN001, ANN201
    """Fit ``estimator`` (default: logistic regression, C=1e3, liblinear, as Snorkel's spam
    tutorial) on the soft labels ``probs``; rows with all-zero probs are skipped."""
    from sklearn.linear_model import LogisticRegression

    probs = np.asarray(probs, dtype=np.float64)
    keep = probs.sum(axis=1) > 0
    if not keep.any():
        raise ValueError("no item has a probabilistic label to train on")
    X_keep = X[np.flatnonzero(keep)] if sp.issparse(X) else np.asarray(X)[keep]
    X_rep, y_rep, weights = soft_label_training_set(X_keep, probs[keep])
    if len(np.unique(y_rep)) < 2:
        raise ValueError("the probabilistic labels cover a single class: nothing to learn")
    model = estimator if estimator is not None else LogisticRegression(C=1e3, solver="liblinear")
    model.fit(X_rep, y_rep, sample_weight=weights)
    return model
