"""Checks at the library boundary: clear errors that say what is wrong, where, and how to fix it."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import scipy.sparse as sp


def as_feature_matrix(X: Any, name: str, hint: str) -> Any:
    """Return ``X`` as a CSR matrix or a 2-D numpy array; else a ValueError naming ``name``'s
    shape, followed by ``hint`` (how to featurize)."""
    if sp.issparse(X):
        return X.tocsr()
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_items, n_features); got shape {X.shape}. {hint}")
    return X


def check_pool(X_pool: Any, name: str = "X_pool") -> Any:
    """Return ``X_pool`` as a 2-D numpy array or CSR matrix with at least one row."""
    X = as_feature_matrix(
        X_pool, name, "Featurize the items first (e.g. TextFeaturizer.fit_transform)."
    )
    if X.shape[0] == 0:
        raise ValueError(f"{name} is empty: there are no unlabeled items to choose from.")
    return X


def check_batch_size(n: Any, n_pool: int, name: str = "n") -> int:
    """Return ``n`` as an int in ``[1, n_pool]``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer; got {n!r}.")
    if n < 1:
        raise ValueError(f"{name} must be at least 1; got {n}.")
    if n > n_pool:
        raise ValueError(
            f"{name}={n} is larger than the pool ({n_pool} items); ask for at most {n_pool}."
        )
    return int(n)


def check_proba(proba: Any, n_rows: int, where: str) -> np.ndarray:
    """Return class probabilities as a float array of shape ``(n_rows, n_classes)``.

    Floating input is kept as it is (no float32 -> float64 copy of a 1M-row pool), so measures
    are computed on exactly what modAL computes them on.
    """
    P = np.asarray(proba)
    if not np.issubdtype(P.dtype, np.floating):
        P = P.astype(float)
    if P.ndim != 2 or P.shape[0] != n_rows:
        raise ValueError(
            f"{where}: predict_proba returned shape {P.shape}; expected ({n_rows}, n_classes)."
        )
    return P


def check_fitted_classifier(model: Any, where: str) -> None:
    """Raise if ``model`` cannot give class probabilities."""
    if not hasattr(model, "predict_proba"):
        raise TypeError(
            f"{where} needs a classifier with predict_proba; got {type(model).__name__}. "
            "Use e.g. sklearn's LogisticRegression (see active_learning.models.make_classifier)."
        )
    if not hasattr(model, "classes_"):
        raise ValueError(f"{where}: the model is not fitted; call fit on the labeled items first.")
