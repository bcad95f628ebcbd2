"""The registry of query strategies by name, as the app settings and the CLI name them."""

from __future__ import annotations

import warnings

from active_learning.auto import AUTO
from active_learning.base import QueryStrategy
from active_learning.cluster_based import CLUSTER_BASED
from active_learning.committee import COMMITTEE
from active_learning.diversity import DIVERSITY
from active_learning.names import DEFAULT_STRATEGY, DROPPED, STRATEGY_NAMES
from active_learning.random_sampling import RANDOM
from active_learning.region_based import REGION_BASED
from active_learning.uncertainty import ENTROPY, LEAST_CONFIDENCE, MARGIN

__all__ = ["DEFAULT_STRATEGY", "DROPPED", "STRATEGIES", "STRATEGY_NAMES", "get_strategy"]

STRATEGIES: dict[str, QueryStrategy] = {
    s.name: s
    for s in (
        AUTO,
        RANDOM,
        MARGIN,
        LEAST_CONFIDENCE,
        ENTROPY,
        CLUSTER_BASED,
        COMMITTEE,
        REGION_BASED,
        DIVERSITY,
    )
}
if tuple(STRATEGIES) != STRATEGY_NAMES:  # the cheap list the app shows must name these
    raise RuntimeError(f"active_learning.names lists {STRATEGY_NAMES}, not {tuple(STRATEGIES)}")


def get_strategy(name: str) -> QueryStrategy:
    """The strategy called ``name``; a clear error listing the known names otherwise."""
    if name in DROPPED:
        warnings.warn(
            f"Query strategy {name!r} was dropped (worse than random with few labels); "
            f"using {DROPPED[name]!r}. Choose another strategy in the project settings.",
            DeprecationWarning,
            stacklevel=2,
        )
        name = DROPPED[name]
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(
            f"Unknown query strategy {name!r}; choose one of: {', '.join(STRATEGIES)}."
        ) from None
