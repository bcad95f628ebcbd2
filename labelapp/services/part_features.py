"""Features of a large project part by part: a featurizer fitted once on a sample of the project's
texts, sent to the Dask workers, and applied there to each part's texts.

TF-IDF learns its vocabulary and idf from a sample spread evenly over the project (every k-th item
by position, up to ``SAMPLE_ITEMS``); every part is then transformed with the same vocabulary, so
rows of different parts are comparable. Embeddings need no fitting: each worker embeds its part,
vectors cached per text hash in the shared embedding directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from labelapp.services.featurizers import FeaturizerSetting, embedding_dir, planned_featurizer

SAMPLE_ITEMS = 200_000


@dataclass(frozen=True)
class PartFeaturizer:
    """What every part's texts are featurized with: ``used`` ("embeddings" or "tfidf"), why it is
    not the project's setting (else None), the fitted TF-IDF (None for embeddings) and the
    embedding cache directory."""

    used: str
    reason: str | None
    tfidf: Any = None
    cache_dir: str | None = None

    def transform(self, texts: list[str]) -> Any:
        """Features of ``texts``: sparse TF-IDF rows or dense float32 embeddings, in order."""
        if self.tfidf is not None:
            return self.tfidf.transform(["" if t is None else t for t in texts])
        from active_learning.features import embed_texts

        return embed_texts(texts, cache_dir=self.cache_dir)


def sample_texts(session: Session, project_id: int, n_items: int, size: int) -> list[str]:
    """About ``size`` texts spread evenly over the project's positions (all when it has fewer)."""
    step = max(1, -(-n_items // size))
    rows = session.execute(
        text(
            "SELECT text FROM items WHERE project_id = :p AND position % :step = 0 "
            "ORDER BY position"
        ),
        {"p": project_id, "step": step},
    ).all()
    return [r[0] or "" for r in rows]


def fit_part_featurizer(
    session: Session,
    project_id: int,
    setting: FeaturizerSetting,
    sample_size: int = SAMPLE_ITEMS,
) -> PartFeaturizer:
    """The project's featurizer, ready for its parts: TF-IDF fitted on a sample of its texts, or
    the embedding model (when the setting asks for it and the package is there)."""
    used, reason = planned_featurizer(setting)
    if used == "embeddings":
        return PartFeaturizer(used, reason, cache_dir=str(embedding_dir()))
    from active_learning.features import make_featurizer

    texts = sample_texts(session, project_id, setting.n_items, sample_size)
    tfidf = make_featurizer("tfidf").fit(texts)
    return PartFeaturizer(used, reason, tfidf=tfidf)
