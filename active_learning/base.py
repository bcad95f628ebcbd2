"""What every query strategy is: ``(model, X_pool, n, **state) -> (indices, scores)``.

``indices`` are positions in ``X_pool`` (unique, in the order they should be labeled) and
``scores`` the informativeness of each chosen item (higher = asked first). ``state`` carries what
some strategies need besides the model (``X_labeled``, ``y_labeled``, ``clusters``, ``regions``,
``random_state``...); every strategy ignores keys it does not use, so one call fits all.

Internally each strategy is a ``query`` function returning a :class:`Query`, which also holds one
score per pool item, so the app can rank the whole queue from a single call
(see :mod:`active_learning.priorities`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from active_learning._validation import (
    check_batch_size,
    check_fitted_classifier,
    check_pool,
    check_proba,
)


@dataclass(frozen=True)
class Query:
    """A strategy's answer: the batch (``indices``, in order, with their ``scores``) and the
    informativeness of every pool item (``pool_scores``, higher = more useful to label)."""

    indices: np.ndarray
    scores: np.ndarray
    pool_scores: np.ndarray


QueryFn = Callable[..., Query]
ScorePoolFn = Callable[..., np.ndarray]


@dataclass(frozen=True)
class QueryStrategy:
    """A named query strategy.

    ``batch_aware`` is True when the batch is more than the top-n of the pool scores (cluster,
    region, diversity): the queue must then put the selected batch first.
    """

    name: str
    query: QueryFn
    score_pool: ScorePoolFn
    batch_aware: bool
    description: str

    def select(
        self, model: Any, X_pool: Any, n: int, **state: Any
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` items to label next and their scores (the common strategy signature)."""
        q = self.query(model, X_pool, n, **state)
        return q.indices, q.scores

    __call__ = select


def predict_proba(model: Any, X_pool: Any, where: str) -> np.ndarray:
    """``model.predict_proba(X_pool)`` with the checks every strategy needs."""
    check_fitted_classifier(model, where)
    return check_proba(model.predict_proba(X_pool), X_pool.shape[0], where)


def as_random_state(random_state: Any) -> np.random.Generator:
    """A numpy Generator from an int, a sequence of ints, None or a Generator/RandomState."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return np.random.default_rng(random_state)


def top_by_score(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` highest scores, highest first (stable on ties: lower index first)."""
    if n >= scores.shape[0]:
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, n - 1)[:n]
    # argpartition breaks ties at the n-th value arbitrarily; include every tied item, then cut.
    cut = scores[part].min()
    part = np.flatnonzero(scores >= cut)
    return part[np.lexsort((part, -scores[part]))][:n]


def top_query(scores: np.ndarray, n: int) -> Query:
    """The plain "top-n by score" query of score-based strategies (uncertainty, committee)."""
    n = check_batch_size(n, scores.shape[0])
    idx = top_by_score(scores, n)
    return Query(idx, scores[idx], scores)


def prepare(X_pool: Any, n: int) -> tuple[Any, int]:
    """The validated pool and batch size every strategy starts with."""
    X = check_pool(X_pool)
    return X, check_batch_size(n, X.shape[0])
