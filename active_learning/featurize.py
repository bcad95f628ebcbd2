"""One call from texts to a feature matrix, cached per data version."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from active_learning.feature_cache import FeatureCache, data_version
from active_learning.features import DEFAULT_MAX_EMBEDDING_ITEMS, FEATURIZERS, make_featurizer

__all__ = ["DEFAULT_CACHE", "FEATURIZERS", "featurize_texts", "featurize_texts_as"]

#: The process-wide cache the app and the CLI share unless they pass their own.
DEFAULT_CACHE = FeatureCache(max_items=4)


def featurize_texts_as(
    texts: Sequence[Any],
    *,
    kind: str = "tfidf",
    version: str | None = None,
    cache: FeatureCache | None = None,
    embedding_cache_dir: str | Path | None = None,
    max_embedding_items: int = DEFAULT_MAX_EMBEDDING_ITEMS,
) -> tuple[Any, str, str | None]:
    """(features, featurizer used, why it is not ``kind`` or None); see :func:`featurize_texts`."""
    if kind not in FEATURIZERS:
        raise ValueError(f"Unknown featurizer {kind!r}; choose one of {FEATURIZERS}.")
    cache = DEFAULT_CACHE if cache is None else cache
    f = make_featurizer(
        kind,
        n_items=len(texts),
        cache_dir=embedding_cache_dir,
        max_embedding_items=max_embedding_items,
    )
    key = f"features:{f.name}:{version or data_version(texts)}"
    X = cache.get_or_compute(key, lambda: f.fit_transform(texts))
    return X, f.name, f.fallback_reason


def featurize_texts(
    texts: Sequence[Any],
    *,
    kind: str = "tfidf",
    version: str | None = None,
    cache: FeatureCache | None = None,
    embedding_cache_dir: str | Path | None = None,
    max_embedding_items: int = DEFAULT_MAX_EMBEDDING_ITEMS,
) -> Any:
    """Features of ``texts``: TF-IDF (sparse CSR) or sentence embeddings (dense (n, 384)).

    ``version`` names the data version (e.g. the project's import id); when omitted it is a
    content hash of ``texts``. A second call with the same version returns the cached matrix.
    TF-IDF is fitted on all the texts (unsupervised: labels are not used). ``embeddings`` falls
    back to TF-IDF (with a logged warning) when the model cannot load or there are more than
    ``max_embedding_items`` texts; embedding vectors are kept per text in
    ``embedding_cache_dir`` when given.
    """
    return featurize_texts_as(
        texts,
        kind=kind,
        version=version,
        cache=cache,
        embedding_cache_dir=embedding_cache_dir,
        max_embedding_items=max_embedding_items,
    )[0]
