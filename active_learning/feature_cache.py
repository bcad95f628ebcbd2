"""Featurize once per data version and reuse it across retrains (TF-IDF of 1M texts takes ~10 s).

A :class:`FeatureCache` keeps computed objects (feature matrices, fitted featurizers, pool
clusterings) under a key that names the data version, in memory (a few most recent) and, when a
directory is given, on disk with joblib so other processes (the app's job workers) reuse them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def data_version(texts: Iterable[Any]) -> str:
    """A short content hash of the items (order matters): the same texts give the same version."""
    h = hashlib.sha256()
    n = 0
    for t in texts:
        b = ("" if t is None else str(t)).encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
        n += 1
    return f"{n}-{h.hexdigest()[:16]}"


class FeatureCache:
    """A small LRU cache of computed objects keyed by strings, optionally persisted on disk.

    Thread-safe: concurrent requests for the same key compute it once.
    """

    def __init__(self, directory: str | Path | None = None, max_items: int = 4) -> None:
        if max_items < 1:
            raise ValueError(f"max_items must be at least 1; got {max_items}.")
        self.directory = Path(directory) if directory is not None else None
        self.max_items = max_items
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        safe = hashlib.sha256(key.encode()).hexdigest()[:32]
        return self.directory / f"{safe}.joblib"

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        """The object stored under ``key``; ``compute()`` it (and store it) when absent."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:  # computed by another thread meanwhile
                    self.hits += 1
                    return self._items[key]
            value = self._load(key)
            if value is None:
                self.misses += 1
                value = compute()
                self._save(key, value)
            else:
                self.hits += 1
            with self._lock:
                self._items[key] = value
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
                self._key_locks.pop(key, None)
            return value

    def _load(self, key: str) -> Any:
        if self.directory is None:
            return None
        path = self._path(key)
        if not path.exists():
            return None
        import joblib

        stored_key, value = joblib.load(path)
        return value if stored_key == key else None

    def _save(self, key: str, value: Any) -> None:
        if self.directory is None:
            return
        import joblib

        self.directory.mkdir(parents=True, exist_ok=True)
        # Write to a temporary file and rename, so a reader never sees half a file.
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        os.close(fd)
        try:
            joblib.dump((key, value), tmp)
            os.replace(tmp, self._path(key))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def clear(self) -> None:
        """Forget the in-memory items (files on disk stay)."""
        with self._lock:
            self._items.clear()
