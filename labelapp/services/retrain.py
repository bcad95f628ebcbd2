"""Retrain on the human labels, rescore the pool, and swap the queue priorities in one transaction.

The library (:mod:`active_learning`) does the learning; this module turns rows into arrays and
writes the result back. Only the ``top_n`` most informative items get a priority (the chosen
batch first); everything else keeps its stable import/seeded order behind them. Touching a few
thousand rows keeps the swap short, so annotators' claims never wait on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.db import session_scope
from labelapp.models import Annotation, Item, Job, ModelRun, Project, QueueEntry
from labelapp.services.errors import UserError
from labelapp.services.jobs import enqueue, handler
from labelapp.services.labels import human_labels
from labelapp.services.queue import start_write

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import numpy as np


MIN_TOP_N = 2000


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
    return ids, [r[1] or "" for r in rows], version


def retrain_project(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None = None,
    progress: Callable[[float, str], None] = lambda f, m: None,
) -> ModelRun:
    """Fit the project's model on its human labels and reorder its queue by the strategy."""
    import numpy as np

    from active_learning.feature_cache import FeatureCache
    from active_learning.retrain import retrain_and_score

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
        ids, data, version = _project_data(session, project)
        strategy, batch_size, seed = project.strategy, project.batch_size, project.queue_seed
    progress(0.2, f"{len(labels)} labeled items, {len(ids)} in all")
    position = {int(item_id): i for i, item_id in enumerate(ids)}
    labeled = [(position[i], lab) for i, lab in labels.items() if i in position]
    result = retrain_and_score(
        data,
        [p for p, _ in labeled],
        [lab for _, lab in labeled],
        strategy=strategy,
        batch_size=batch_size,
        random_state=seed,
        data_version=version,
        cache=_cache(FeatureCache),
    )
    progress(0.8, "swapping queue priorities")
    top_n = max(MIN_TOP_N, 20 * batch_size)
    order = np.argsort(-result.priority, kind="stable")[:top_n]
    chosen_ids = ids[result.pool_indices[order]]
    with session_scope(sessions) as session:
        start_write(session)
        run = ModelRun(
            project_id=project_id,
            featurizer="pixels" if isinstance(data, np.ndarray) else "tfidf",
            estimator=type(result.model).__name__,
            strategy=strategy,
            n_train=result.n_train,
            n_eval=int((result.metrics or {}).get("n_holdout", 0)),
            trained_through_annotation_id=through,
            params={"batch_size": batch_size, "top_n": top_n, "data_version": version},
            metrics={k: v for k, v in (result.metrics or {}).items()},
            job_id=job_id,
        )
        session.add(run)
        session.flush()
        q = QueueEntry
        session.execute(
            update(q)
            .where(q.project_id == project_id, q.model_run_id.is_not(None))
            .values(priority=0.0, score=None, strategy=None, model_run_id=None)
        )
        session.execute(
            text(
                "UPDATE queue_entries SET priority = :priority, score = :score, "
                "strategy = :strategy, model_run_id = :run WHERE item_id = :item_id"
            ),
            [
                {
                    "priority": float(result.priority[k]),
                    "score": float(result.score[k]),
                    "strategy": strategy,
                    "run": run.id,
                    "item_id": int(item_id),
                }
                for k, item_id in zip(order, chosen_ids, strict=True)
            ],
        )
    return run


_CACHE: Any = None


def _cache(factory: Any) -> Any:
    """One feature cache per process, on disk in the data directory (shared by workers)."""
    global _CACHE
    if _CACHE is None:
        _CACHE = factory(config.data_dir() / "features", max_items=2)
    return _CACHE


@handler("retrain")
def _run_retrain(
    sessions: sessionmaker[Session], job: Job, progress: Callable[[float, str], None]
) -> dict[str, Any]:
    run = retrain_project(sessions, job.project_id, job.id, progress)
    return {"model_run_id": run.id, "metrics": run.metrics, "n_train": run.n_train}


def labels_since_last_run(session: Session, project_id: int, cap: int) -> int:
    """Human labels stored since the last model run read its training set (counted up to ``cap``,
    so the check stays cheap on every submit however large the project)."""
    through = session.scalar(
        select(func.max(ModelRun.trained_through_annotation_id)).where(
            ModelRun.project_id == project_id
        )
    )
    a = Annotation
    recent = (
        select(a.id)
        .where(a.project_id == project_id, a.kind == "label", a.user_id.is_not(None))
        .where(a.id > (through or 0))
        .limit(cap)
        .subquery()
    )
    return session.scalar(select(func.count()).select_from(recent)) or 0


def maybe_retrain(session: Session, sessions: sessionmaker[Session], project: Project) -> None:
    """After a label: queue a retrain once ``retrain_every`` new labels have arrived."""
    if project.retrain_every <= 0 or project.multi_label:
        return
    due = labels_since_last_run(session, project.id, project.retrain_every) >= project.retrain_every
    session.commit()  # end the read: the job runs in its own session
    if due:
        enqueue(sessions, project.id, "retrain")
