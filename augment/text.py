"""Label-preserving text augmentation that needs nothing downloaded: swap, delete, synonym rules.

Seeded per text (``random_state`` plus the text's key), so a copy is reproducible on its own. It is
opt-in: nothing here runs unless the caller asks for it, and every copy reports the operations that
made it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from augment.seeding import derive_seed

_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class TextAugmentConfig:
    """Which operations to apply and how strongly.

    ``swap_prob`` / ``delete_prob`` are per-token rates (random swap and random deletion of EDA,
    Wei & Zou 2019); ``synonyms`` maps a lower-case word to replacements, applied at
    ``synonym_prob``.
    """

    swap_prob: float = 0.1
    delete_prob: float = 0.1
    synonym_prob: float = 0.0
    synonyms: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("swap_prob", "delete_prob", "synonym_prob"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"TextAugmentConfig.{name} must be in [0, 1], got {value}")
        if self.synonym_prob > 0 and not self.synonyms:
            raise ValueError(
                "synonym_prob > 0 needs a synonyms dict, e.g. {'great': ['good', 'fine']}"
            )


@dataclass(frozen=True)
class AugmentedText:
    """One augmented copy of a text and the operations that made it."""

    source_id: str
    copy: int
    seed: int
    text: str
    operations: list[dict] = field(default_factory=list)


def augment_text(
    text: str,
    config: TextAugmentConfig,
    *,
    source_id: str | int,
    random_state: int,
    copy: int = 0,
) -> AugmentedText:
    """Return one augmented copy of ``text``: synonyms, then swaps, then deletions (never all
    words)."""
    seed = derive_seed(random_state, source_id, copy)
    rng = random.Random(seed)
    tokens = _TOKEN.findall(text)
    ops: list[dict] = []
    if config.synonym_prob and config.synonyms:
        lookup = {k.lower(): list(v) for k, v in config.synonyms.items() if v}
        for i, token in enumerate(tokens):
            choices = lookup.get(token.lower())
            if choices and rng.random() < config.synonym_prob:
                new = rng.choice(choices)
                ops.append({"op": "synonym", "position": i, "from": token, "to": new})
                tokens[i] = new
    n_swaps = sum(rng.random() < config.swap_prob for _ in tokens) if len(tokens) > 1 else 0
    for _ in range(n_swaps):
        i, j = rng.sample(range(len(tokens)), 2)
        tokens[i], tokens[j] = tokens[j], tokens[i]
        ops.append({"op": "swap", "positions": [i, j]})
    if config.delete_prob and len(tokens) > 1:
        keep = [rng.random() >= config.delete_prob for _ in tokens]
        if not any(keep):
            keep[rng.randrange(len(tokens))] = True
        deleted = [i for i, k in enumerate(keep) if not k]
        if deleted:
            ops.append({"op": "delete", "positions": deleted})
        tokens = [t for t, k in zip(tokens, keep, strict=True) if k]
    return AugmentedText(str(source_id), copy, seed, " ".join(tokens), ops)
