"""Queue priorities for every unlabeled item from one strategy call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from active_learning.base import QueryStrategy


@dataclass(frozen=True)
class PoolPriorities:
    """``priority`` in (0, 1] per pool item (higher = shown first, all distinct); ``score`` the
    strategy's informativeness per item; ``selected`` the batch the strategy chose, in order."""

    priority: np.ndarray
    score: np.ndarray
    selected: np.ndarray


def pool_priorities(
    strategy: QueryStrategy, model: Any, X_pool: Any, batch_size: int, **state: Any
) -> PoolPriorities:
    """Rank the whole pool: the strategy's batch first (in its order), then the rest by score.

    For strategies whose batch is the top of their score (uncertainty, committee, random) this
    is simply the score order; for batch-aware ones (cluster, region, diversity) the chosen
    batch is moved to the front so annotators see it first.
    """
    n_pool = X_pool.shape[0]
    q = strategy.query(model, X_pool, min(batch_size, n_pool), **state)
    score = np.asarray(q.pool_scores, dtype=float)
    rest = np.ones(n_pool, dtype=bool)
    rest[q.indices] = False
    others = np.flatnonzero(rest)
    others = others[np.lexsort((others, -score[others]))]
    order = np.concatenate([q.indices, others])
    priority = np.empty(n_pool)
    priority[order] = 1.0 - np.arange(n_pool) / n_pool
    return PoolPriorities(priority=priority, score=score, selected=np.asarray(q.indices))
