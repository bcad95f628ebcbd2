"""The one place that imports modAL (modAL-python 0.4.2.1, unmaintained).

What works on scikit-learn 1.9 and is used here: the uncertainty measures and selection helpers
behind ``margin_sampling``/``uncertainty_sampling``/``entropy_sampling``, the committee
disagreement measures, and ``uncertainty_batch_sampling`` (kept as the reference our benchmarks
compare with). What does not work and is never imported: ``ActiveLearner.teach()``
(``force_all_finite`` was renamed in scikit-learn), ``modAL.cluster``, ``modAL.expected_error``
and ``modAL.dropout`` (import errors). modAL is imported lazily: it costs ~2-3 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def preload() -> None:
    """Import modAL now (~3 s), e.g. before timing queries, instead of at the first query."""
    import modAL.disagreement
    import modAL.uncertainty  # noqa: F401


def margin_from_proba(proba: np.ndarray) -> np.ndarray:
    """Difference between the two largest class probabilities (small = uncertain), as modAL."""
    from modAL.uncertainty import _proba_margin

    return _proba_margin(proba)


def least_confidence_from_proba(proba: np.ndarray) -> np.ndarray:
    """``1 - max probability`` (large = uncertain), as modAL's ``classifier_uncertainty``."""
    from modAL.uncertainty import _proba_uncertainty

    return _proba_uncertainty(proba)


def entropy_from_proba(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy of the class probabilities (large = uncertain), as modAL."""
    from modAL.uncertainty import _proba_entropy

    return _proba_entropy(proba)


def top_n(values: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` largest values, chosen exactly as modAL's ``multi_argmax`` does."""
    from modAL.utils.selection import multi_argmax

    idx, _ = multi_argmax(values, n_instances=n)
    return idx


def bottom_n(values: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` smallest values, chosen exactly as modAL's ``multi_argmin`` does."""
    from modAL.utils.selection import multi_argmin

    idx, _ = multi_argmin(values, n_instances=n)
    return idx


def modal_margin_sampling(model: Any, X_pool: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """modAL's own ``margin_sampling`` (reference for tests and benchmarks)."""
    from modAL.uncertainty import margin_sampling

    return margin_sampling(model, X_pool, n_instances=n)


def modal_committee(members: Sequence[Any]) -> Any:
    """A modAL ``Committee`` around already fitted estimators (no ``teach``, which is broken)."""
    from modAL.models import ActiveLearner, Committee

    return Committee([ActiveLearner(estimator=m) for m in members])


def modal_vote_entropy(members: Sequence[Any], X_pool: Any) -> np.ndarray:
    """modAL's ``vote_entropy`` of a committee of fitted estimators (reference)."""
    from modAL.disagreement import vote_entropy

    return vote_entropy(modal_committee(members), X_pool)


def modal_kl_max_disagreement(members: Sequence[Any], X_pool: Any) -> np.ndarray:
    """modAL's ``KL_max_disagreement`` of a committee of fitted estimators (reference)."""
    from modAL.disagreement import KL_max_disagreement

    return KL_max_disagreement(modal_committee(members), X_pool)


def modal_uncertainty_batch_sampling(
    model: Any, X_pool: Any, n: int, X_labeled: Any | None = None
) -> np.ndarray:
    """modAL's ranked batch mode (Cardoso et al. 2017), the reference for our diverse batches.

    modAL reads the labeled set from ``model.X_training``; it is passed here explicitly.
    """
    from modAL.batch import uncertainty_batch_sampling
    from modAL.models import ActiveLearner

    learner = ActiveLearner(estimator=model)
    learner.X_training = X_labeled
    idx, _ = uncertainty_batch_sampling(learner, X_pool, n_instances=n)
    return np.asarray(idx)
