"""Per-item seeds: one augmented copy is reproducible on its own, whatever the processing order."""

from __future__ import annotations

import hashlib


def derive_seed(random_state: int, key: str | int, copy: int = 0) -> int:
    """A 32-bit seed from ``(random_state, key, copy)``, stable across runs, processes and
    platforms."""
    digest = hashlib.sha256(f"{int(random_state)}\x1f{key}\x1f{int(copy)}".encode()).digest()
    return int.from_bytes(digest[:4], "little")
