"""One call from texts to a feature matrix, cached per data version."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from active_learning.feature_cache import FeatureCache, data_version

FEATURIZERS = ("tfidf", "embeddings")

#: The process-wide cache the app and the CLI share unless they pass their own.
DEFAULT_CACHE = FeatureCache(max_items=4)


def featurize_texts(
    texts: Sequence[Any],
    *,
    kind: str = "tfidf",
    version: str | None = None,
    cache: FeatureCache | None = None,
) -> Any:
    """Features of ``texts``: TF-IDF (sparse CSR, the default) or sentence embeddings (dense).

    ``version`` names the data version (e.g. the project's import id); when omitted it is a
    content hash of ``texts``. A second call with the same version returns the cached matrix.
    TF-IDF is fitted on all the texts (unsupervised: labels are not used).
    """
    if kind not in FEATURIZERS:
        raise ValueError(f"Unknown featurizer {kind!r}; choose one of {FEATURIZERS}.")
    cache = DEFAULT_CACHE if cache is None else cache
    key = f"features:{kind}:{version or data_version(texts)}"

    def compute() -> Any:
        if kind == "tfidf":
            from active_learning.text_features import TextFeaturizer

            return TextFeaturizer().fit_transform(texts)
        from active_learning.embeddings import SentenceEmbedder

        return SentenceEmbedder().transform(texts)

    return cache.get_or_compute(key, compute)
