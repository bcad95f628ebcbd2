"""What both retrain paths share (in process: :mod:`labelapp.services.retrain`; part by part on
Dask: :mod:`labelapp.services.retrain_parts`): the snapshot of labels and settings a retrain
reads, the ranking it writes (the priority swap, near-duplicates spread apart) and its run row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.db import session_scope, start_write
from labelapp.models import Annotation, Item, ModelRun, Project, QueueEntry
from labelapp.services.batch_dedupe import spread_near_duplicates
from labelapp.services.errors import UserError
from labelapp.services.featurizers import FeaturizerSetting, featurizer_setting
from labelapp.services.labels import human_labels
from labelapp.services.table_stats import PRIORITY_TABLES, analyze_after_bulk_write

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import numpy as np


MIN_TOP_N = 2000


def top_n_of(batch_size: int) -> int:
    """How many of the best items get a priority: at least ``MIN_TOP_N``, 20 batches."""
    return max(MIN_TOP_N, 20 * batch_size)


def labeling_order(session: Session, project_id: int, item_ids: Any) -> list[int]:
    """``item_ids`` oldest-labeled first (by each item's first annotation; items without one,
    e.g. gold answers, first): ``auto`` compares the model with one without the latest labels."""
    first = dict(
        session.execute(
            select(Annotation.item_id, func.min(Annotation.id))
            .where(Annotation.project_id == project_id)
            .group_by(Annotation.item_id)
        ).all()
    )
    return sorted(item_ids, key=lambda i: (first.get(i, 0), i))


def _project_data(session: Session, project: Project) -> tuple[np.ndarray, Any, str]:
    """Item ids in queue order, their texts or image features, and a data version."""
    import numpy as np

    rows = session.execute(
        select(Item.id, Item.text, Item.image_path)
        .where(Item.project_id == project.id)
        .order_by(Item.position)
    ).all()
    if not rows:
        raise UserError("the project has no items yet: import some first")
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    version = f"project-{project.id}-{len(rows)}-{int(ids.max())}"
    if project.task_type == "image":
        from active_learning.image_features import pixel_features

        media = config.media_dir()
        return ids, pixel_features([media / r[2] for r in rows]), version
    from active_learning.feature_cache import data_version

    texts = [r[1] or "" for r in rows]
    return ids, texts, f"project-{project.id}-{data_version(texts)}"  # an edited text: new version


@dataclass(frozen=True)
class Snapshot:
    """What a retrain reads from the database, in one short transaction."""

    through: int | None  # the latest annotation id the labels include
    labels: dict[int, str]  # item id -> human label
    order: list[int]  # the labeled item ids, oldest labeled first
    ids: np.ndarray | None  # every item id, in queue order (None: read part by part)
    data: Any  # their texts or image features (None: read part by part)
    version: str
    strategy: str
    batch_size: int
    seed: int
    setting: FeaturizerSetting | None  # None for image projects


def read_snapshot(
    sessions: sessionmaker[Session], project_id: int, with_data: bool = True
) -> Snapshot:
    """The project's labels, items and settings; refuses projects active learning cannot order.
    Without ``with_data`` the items stay in the database (read part by part)."""
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        if project is None:
            raise UserError(f"no project {project_id}")
        if project.multi_label:
            raise UserError("active learning orders single-label projects only")
        through = session.scalar(
            select(func.max(Annotation.id)).where(Annotation.project_id == project_id)
        )
        labels = human_labels(session, project)
        order = labeling_order(session, project_id, list(labels))
        if with_data:
            ids, data, version = _project_data(session, project)
        else:
            ids, data, version = None, None, _size_version(session, project.id)
        return Snapshot(
            through=through,
            labels=labels,
            order=order,
            ids=ids,
            data=data,
            version=version,
            strategy=project.strategy,
            batch_size=project.batch_size,
            seed=project.queue_seed,
            setting=None if project.task_type == "image" else featurizer_setting(session, project),
        )


def _size_version(session: Session, project_id: int) -> str:
    """A data version from the item count and largest id (no texts read)."""
    n, last = session.execute(
        select(func.count(Item.id), func.max(Item.id)).where(Item.project_id == project_id)
    ).one()
    if not n:
        raise UserError("the project has no items yet: import some first")
    return f"project-{project_id}-{n}-{last}"


@dataclass(frozen=True)
class Ranking:
    """The ``top_n`` highest-priority pool items, best first: item ids, priorities, scores."""

    item_ids: np.ndarray
    priority: np.ndarray
    score: np.ndarray


def save_ranking(sessions: sessionmaker[Session], run: ModelRun, ranking: Ranking) -> ModelRun:
    """Add ``run`` and give the ranked items its priorities in one transaction (every other
    item's model priority cleared); near-duplicates are spread apart first."""
    import numpy as np

    # Near-duplicates never back to back (labelapp/services/batch_dedupe.py); the priorities,
    # best first, follow the new order.
    spread = spread_near_duplicates(sessions, ranking.item_ids)
    chosen_ids, scores = ranking.item_ids[spread], ranking.score[spread]
    ranked = np.sort(ranking.priority)[::-1]
    with session_scope(sessions) as session:
        start_write(session)
        session.add(run)
        session.flush()
        _swap_priorities(
            session,
            run,
            [
                {
                    "priority": float(ranked[rank]),
                    "score": float(scores[rank]),
                    "strategy": run.strategy,
                    "run": run.id,
                    "item_id": int(item_id),
                }
                for rank, item_id in enumerate(chosen_ids)
            ],
        )
    with session_scope(sessions) as session:  # after the swap: it holds its row locks no longer
        analyze_after_bulk_write(session, PRIORITY_TABLES, len(chosen_ids))
    return run


def model_run(
    project_id: int,
    job_id: int | None,
    snap: Snapshot,
    featurizer: str,
    featurizer_reason: str | None,
    result: Any,
    top_n: int,
    **params: Any,
) -> ModelRun:
    """The run row recording the fitted model, its settings (and ``params``) and its held-out
    metrics."""
    return ModelRun(
        project_id=project_id,
        featurizer=featurizer,
        estimator=type(result.model).__name__,
        strategy=snap.strategy,
        n_train=result.n_train,
        n_eval=int((result.metrics or {}).get("n_holdout", 0)),
        trained_through_annotation_id=snap.through,
        params={
            "batch_size": snap.batch_size,
            "top_n": top_n,
            "data_version": snap.version,
            "featurizer_reason": featurizer_reason,
            **params,
        },
        metrics={k: v for k, v in (result.metrics or {}).items()},
        job_id=job_id,
    )


def _swap_priorities(session: Session, run: ModelRun, rows: list[dict[str, Any]]) -> None:
    """Clear the project's previous model priorities and set ``rows`` (one per ranked item)."""
    q = QueueEntry
    session.execute(
        update(q)
        .where(q.project_id == run.project_id, q.model_run_id.is_not(None))
        .values(priority=0.0, score=None, strategy=None, model_run_id=None)
    )
    if not rows:  # nothing left to score (every item labeled): no priorities to set
        return
    session.execute(
        text(
            "UPDATE queue_entries SET priority = :priority, score = :score, "
            "strategy = :strategy, model_run_id = :run WHERE item_id = :item_id"
        ),
        rows,
    )
