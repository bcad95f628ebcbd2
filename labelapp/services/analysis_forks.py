"""The fork server that analysis children (:mod:`labelapp.services.analysis_child`) are forked
from. A web process starts it at its first analysis, with the libraries the analyses use imported
(:data:`WARM_MODULES`): later children start in milliseconds instead of a fresh interpreter's
seconds of imports (measured: 1.5 s for the first child, 0.02 s for the next). It is a process
of its own, never the web process (220 MB RSS), and it stops after :data:`IDLE_SECONDS` without an
analysis, so an idle web process gives that memory back. Albumentations (280 MB more) is left for
the augmentation previews to import."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.context import BaseContext

from labelapp.db import driver_modules

IDLE_SECONDS = 600.0
# What the analyses import: their modules, and the libraries those import lazily.
WARM_MODULES = (
    "labelapp.services.analysis_child",
    "labelapp.models",
    "labelapp.services.drift.service",
    "labelapp.services.drift.compare",
    "labelapp.services.drift.classifier",
    "labelapp.services.slices",
    "labelapp.services.slice_stats",
    "labelapp.services.augment_preview",
    "labelapp.services.export.request",
    "labelapp.services.export.snapshots",
    "numpy",
    "pandas",
    "pyarrow.json",
    "scipy.sparse",
    "scipy.stats",
    "sklearn.feature_extraction.text",
    "sklearn.linear_model",
    "sklearn.metrics",
    "sklearn.model_selection",
    "active_learning.label_issues.probs",
    "augment.label_safety",
    "augment.plan",
    "augment.text",
)
FORKS = multiprocessing.get_context("forkserver")
_lock = threading.Lock()
_busy = 0  # analyses running now
_last_end = 0.0
_timer: threading.Timer | None = None


@contextmanager
def forks(database_url: str) -> Iterator[BaseContext]:
    """The multiprocessing context to start an analysis child with, its fork server running (the
    first child waits until the modules are imported; a fork server that died starts again)."""
    global _busy, _last_end
    with _lock:
        _busy += 1
        _ensure_running(database_url)
    try:
        yield FORKS
    finally:
        with _lock:
            _busy -= 1
            _last_end = time.monotonic()
            _check_later(IDLE_SECONDS)


def _ensure_running(database_url: str) -> None:
    from multiprocessing import forkserver

    FORKS.set_forkserver_preload([*driver_modules(database_url), *WARM_MODULES])
    forkserver.ensure_running()


def _check_later(seconds: float) -> None:
    """Look for idleness in ``seconds`` (instead of when it was due: the last analysis counts)."""
    global _timer
    if _timer is not None:
        _timer.cancel()
    _timer = threading.Timer(seconds, _stop_if_idle)
    _timer.daemon = True
    _timer.start()


def _stop_if_idle() -> None:
    global _timer
    with _lock:
        _timer = None
        if _busy:
            return  # the analysis that runs checks again when it ends
        idle = time.monotonic() - _last_end
        if idle < IDLE_SECONDS:
            _check_later(IDLE_SECONDS - idle)
            return
        from multiprocessing import forkserver

        # multiprocessing has no public way to stop its fork server; CPython's own tests use this.
        stop = getattr(forkserver._forkserver, "_stop", None)
        if stop is not None:
            stop()
