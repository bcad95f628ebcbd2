"""Retrain on the human labels, rescore the pool, and swap the queue priorities in one transaction.

The library (:mod:`active_learning`) does the learning; this module turns rows into arrays and
writes the result back. Only the ``top_n`` most informative items get a priority (the chosen
batch first); everything else keeps its stable import/seeded order behind them. Touching a few
thousand rows keeps the swap short, so annotators' claims never wait on it.

Large text projects (those :func:`~labelapp.services.weak.dask_apply.choose_applier` sends to
Dask, the rule LF application follows) are scored part by part on ``dask.distributed``
(:mod:`labelapp.services.retrain_parts`); both paths share the swap and the run row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import Job, ModelRun, Project
from labelapp.services.featurizers import (
    Features,
    FeaturizerSetting,
    feature_cache,
    project_item_count,
    text_features,
)
from labelapp.services.jobs import handler
from labelapp.services.retrain_run import (
    Ranking,
    model_run,
    read_snapshot,
    save_ranking,
    top_n_of,
)

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    from labelapp.services.weak.dask_apply import Applier


def _dask_applier(sessions: sessionmaker[Session], project_id: int) -> Applier | None:
    """Where a text project is scored part by part (:func:`choose_applier`'s rule, as for LF
    application), or None to score it in process (image projects, small projects)."""
    from labelapp.services.weak.dask_apply import choose_applier

    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        if project is None or project.task_type != "text":
            return None
        n_items = project_item_count(session, project_id)
    if not n_items:
        return None  # the in-process path says the project has no items
    applier = choose_applier(n_items)
    return applier if applier.engine == "dask" else None


def retrain_project(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None = None,
    progress: Callable[[float, str], None] = lambda f, m: None,
) -> ModelRun:
    """Fit the project's model on its human labels and reorder its queue by the strategy."""
    import numpy as np

    from active_learning.retrain import retrain_and_score

    applier = _dask_applier(sessions, project_id)
    if applier is not None:
        from labelapp.services.retrain_parts import retrain_in_parts

        return retrain_in_parts(sessions, project_id, applier, job_id, progress)
    snap = read_snapshot(sessions, project_id)
    features = _features(snap.setting, snap.data, progress)
    progress(0.2, f"{len(snap.labels)} labeled items, {len(snap.ids)} in all")
    position = {int(item_id): i for i, item_id in enumerate(snap.ids)}
    labeled = [(position[i], snap.labels[i]) for i in snap.order if i in position]
    result = retrain_and_score(
        features.X,
        [p for p, _ in labeled],
        [lab for _, lab in labeled],
        strategy=snap.strategy,
        batch_size=snap.batch_size,
        random_state=snap.seed,
        data_version=f"{features.used}:{snap.version}",
        cache=feature_cache(),
    )
    progress(0.8, "swapping queue priorities")
    top_n = top_n_of(snap.batch_size)
    order = np.argsort(-result.priority, kind="stable")[:top_n]
    ranking = Ranking(
        snap.ids[result.pool_indices[order]], result.priority[order], result.score[order]
    )
    run = model_run(project_id, job_id, snap, features.used, features.reason, result, top_n)
    return save_ranking(sessions, run, ranking)


def _features(
    setting: FeaturizerSetting | None, data: Any, progress: Callable[[float, str], None]
) -> Features:
    """The project's features of ``data``; image features (no ``setting``) pass through as
    "pixels". Runs outside any database session (embedding is slow)."""
    if setting is None:
        return Features(data, "pixels", None)

    def embedded(done: int, total: int) -> None:
        progress(0.05 + 0.15 * done / max(total, 1), f"embedded {done:,} of {total:,} new texts")

    return text_features(setting, data, embedded)


@handler("retrain")
def _run_retrain(
    sessions: sessionmaker[Session], job: Job, progress: Callable[[float, str], None]
) -> dict[str, Any]:
    run = retrain_project(sessions, job.project_id, job.id, progress)
    return {"model_run_id": run.id, "metrics": run.metrics, "n_train": run.n_train}
