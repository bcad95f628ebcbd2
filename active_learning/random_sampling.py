"""Random sampling: the baseline every other strategy is compared with."""

from __future__ import annotations

from typing import Any

import numpy as np

from active_learning._validation import check_pool
from active_learning.base import Query, QueryStrategy, as_random_state, prepare


def random_scores(model: Any, X_pool: Any, *, random_state: Any = None, **_: Any) -> np.ndarray:
    """A uniform random score per item (a random queue order); ``model`` is not used."""
    X = check_pool(X_pool)
    return as_random_state(random_state).random(X.shape[0])


def random_query(model: Any, X_pool: Any, n: int, *, random_state: Any = None, **_: Any) -> Query:
    """``n`` distinct items drawn uniformly; the same items for the same ``random_state``."""
    X, n = prepare(X_pool, n)
    scores = random_scores(model, X, random_state=random_state)
    idx = np.argsort(-scores, kind="stable")[:n]
    return Query(idx, scores[idx], scores)


RANDOM = QueryStrategy(
    "random", random_query, random_scores, False, "uniformly random items (the baseline)"
)
