"""The registry of query strategies by name, as the app settings and the CLI name them."""

from __future__ import annotations

from active_learning.base import QueryStrategy
from active_learning.cluster_based import CLUSTER_BASED
from active_learning.committee import COMMITTEE, COMMITTEE_KL
from active_learning.diversity import DIVERSITY
from active_learning.random_sampling import RANDOM
from active_learning.region_based import REGION_BASED
from active_learning.uncertainty import ENTROPY, LEAST_CONFIDENCE, MARGIN

STRATEGIES: dict[str, QueryStrategy] = {
    s.name: s
    for s in (
        RANDOM, MARGIN, LEAST_CONFIDENCE, ENTROPY, CLUSTER_BASED, COMMITTEE, COMMITTEE_KL,
        REGION_BASED, DIVERSITY,
    )
}
DEFAULT_STRATEGY = "margin"


def get_strategy(name: str) -> QueryStrategy:
    """The strategy called ``name``; a clear error listing the known names otherwise."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(
            f"Unknown query strategy {name!r}; choose one of: {', '.join(STRATEGIES)}."
        ) from None
