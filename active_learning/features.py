"""Choosing a text featurizer: sentence embeddings by default, TF-IDF as the fallback.

::

    from active_learning.features import embed_texts, make_featurizer

    X = embed_texts(texts, cache_dir="<data dir>/embeddings")   # (n, 384)
    f = make_featurizer("embeddings", n_items=len(texts), cache_dir="<data dir>/embeddings")
    X = f.fit_transform(texts)
    f.name             # what was used: "embeddings" or "tfidf"
    f.fallback_reason  # why TF-IDF was used instead of what was asked (None when it was not)

Embeddings fall back to TF-IDF when the project has more than ``max_embedding_items`` items
(embedding costs ~5-10 ms per text on 2 CPU cores, see benchmarks/RESULTS.md) or when the model
package cannot be loaded; the reason is logged and kept on the featurizer so the app can show it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from active_learning.embeddings import (
    BATCH_SIZE,
    EmbeddingsUnavailable,
    SentenceEmbedder,
    embed_texts,
    embeddings_available,
)
from active_learning.names import DEFAULT_FEATURIZER, DEFAULT_MAX_EMBEDDING_ITEMS
from active_learning.names import FEATURIZER_NAMES as FEATURIZERS
from active_learning.text_features import TextFeaturizer

__all__ = [
    "DEFAULT_FEATURIZER",
    "DEFAULT_MAX_EMBEDDING_ITEMS",
    "FEATURIZERS",
    "EmbeddingsUnavailable",
    "embed_texts",
    "embeddings_available",
    "make_featurizer",
    "resolve_featurizer",
]

log = logging.getLogger(__name__)


def resolve_featurizer(
    name: str, n_items: int | None = None, max_embedding_items: int = DEFAULT_MAX_EMBEDDING_ITEMS
) -> tuple[str, str | None]:
    """(featurizer to use, why it differs from ``name`` or None).

    Loads the embedding model (once per process) to know whether it works here.
    """
    if name not in FEATURIZERS:
        raise ValueError(f"Unknown featurizer {name!r}; choose one of: {', '.join(FEATURIZERS)}.")
    if name == "tfidf":
        return "tfidf", None
    if n_items is not None and n_items > max_embedding_items:
        return "tfidf", (
            f"{n_items:,} items is more than the embedding limit ({max_embedding_items:,}); "
            "using TF-IDF. Raise the limit to embed them anyway (about 5-10 ms per text)."
        )
    ok, reason = embeddings_available()
    if not ok:
        return "tfidf", f"{reason} Using TF-IDF instead."
    return "embeddings", None


def make_featurizer(
    name: str = DEFAULT_FEATURIZER,
    *,
    n_items: int | None = None,
    cache_dir: str | Path | None = None,
    batch_size: int = BATCH_SIZE,
    max_embedding_items: int = DEFAULT_MAX_EMBEDDING_ITEMS,
) -> Any:
    """A featurizer with ``fit_transform(texts)``, ``name`` (the one used), ``requested`` and
    ``fallback_reason``: a :class:`SentenceEmbedder` or a :class:`TextFeaturizer`."""
    used, reason = resolve_featurizer(name, n_items, max_embedding_items)
    if reason:
        log.warning("featurizer %s -> %s: %s", name, used, reason)
    f: Any
    if used == "embeddings":
        f = SentenceEmbedder(batch_size=batch_size, cache_dir=cache_dir)
    else:
        f = TextFeaturizer()
    f.requested = name
    f.fallback_reason = reason
    return f
