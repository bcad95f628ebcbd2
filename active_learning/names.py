"""The query strategies' names, cheap to import (no numpy or scikit-learn): what settings, pages,
the API and the CLI list. :mod:`active_learning.strategies` registers the strategies themselves
and checks that the two lists agree."""

from __future__ import annotations

#: Registered strategy names, in the order pages list them.
STRATEGY_NAMES = (
    "auto",
    "random",
    "margin",
    "least_confidence",
    "entropy",
    "cluster",
    "committee",
    "region",
    "diversity",
)
#: Typical items while the model is unstable, then diverse margin (benchmarks/RESULTS.md).
DEFAULT_STRATEGY = "auto"
#: Dropped strategies and what a project set to them gets instead (with a warning).
#: committee_kl lost to random at 100 and 300 labels on every benchmark data set.
DROPPED = {"committee_kl": "committee"}
#: What pages call them.
STRATEGY_TITLES = {
    "auto": "auto (typical items first, then diverse margin)",
    "random": "random",
    "margin": "margin (uncertainty)",
    "least_confidence": "least confidence",
    "entropy": "entropy",
    "cluster": "cluster-based",
    "committee": "query-by-committee (vote entropy)",
    "region": "region-based",
    "diversity": "diverse batch",
}

#: Text featurizers (:mod:`active_learning.features`): sentence embeddings by default, TF-IDF as
#: the fallback for large projects or when the embedding model cannot load.
FEATURIZER_NAMES = ("embeddings", "tfidf")
DEFAULT_FEATURIZER = "embeddings"
#: Above this many items a project featurizes with TF-IDF (embedding costs ~5-10 ms per text on
#: 2 cores: 100k texts take minutes, 1M hours; benchmarks/RESULTS.md).
DEFAULT_MAX_EMBEDDING_ITEMS = 200_000
FEATURIZER_TITLES = {
    "embeddings": "sentence embeddings (all-MiniLM-L6-v2)",
    "tfidf": "TF-IDF (word counts)",
}
