"""Probabilistic labels stored all at once: a run's (item ids, probabilities) replace a source's
labels chunk by chunk in one transaction, and the resolved labels of the items they touch are
refreshed. What the in-process and the part-by-part (Dask) label model and propagation share,
with the reads both need.

Part by part, each part's result is spooled to a temporary file as it arrives
(:class:`labelapp.services.spool.PartSpool`); when every part is done, one write transaction
replaces the source's labels. A failing task raises before that transaction begins, so the
previous labels stay, whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope, start_write
from labelapp.models import LabelModelRun, ProbLabel, Project
from labelapp.progress import Progress
from labelapp.services.bulk import Constant, bulk_insert_columns
from labelapp.services.errors import UserError
from labelapp.services.labels import WEAK_SOURCES, human_labels, refresh_item_labels
from labelapp.services.partitions import (
    Part,
)
from labelapp.services.weak.common import db_timestamp

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import numpy as np

    from labelapp.services.weak.dask_apply import Applier

IDS_PER_QUERY = 1_000  # ids bound in one IN (...) list
REFRESH_IDS = 1_000_000  # touched items per refresh_item_labels call (one ANALYZE each)


def prob_label_columns(
    item_ids: np.ndarray, probs: np.ndarray, classes: list[str]
) -> dict[str, Any]:
    """The per-row ``prob_labels`` columns of ``probs``: the JSON probabilities (6 decimals),
    the arg-max label and its probability."""
    best = probs.argmax(axis=1)
    return {
        "item_id": item_ids,
        "probs": [json.dumps([round(float(p), 6) for p in row]) for row in probs],
        "label": [classes[int(b)] for b in best],
        "confidence": probs.max(axis=1).astype(float),
    }


def replace_prob_chunks(
    session: Session,
    project_id: int,
    source: str,
    run_id: int,
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
    classes: list[str],
) -> int:
    """In the caller's transaction: the project's ProbLabels from ``source`` become the
    ``(item ids, probs)`` chunks of run ``run_id``, inserted chunk by chunk; the resolved labels
    of the items they can change (the old run's and this one's) are refreshed. Returns the
    number of rows inserted."""
    import numpy as np

    old = None
    mine = (ProbLabel.project_id == project_id, ProbLabel.source == source)
    if source in WEAK_SOURCES:  # the end model's predictions ("model") label no item
        stream = session.scalars(
            select(ProbLabel.item_id).where(*mine).execution_options(yield_per=50_000)
        )
        old = np.fromiter(stream, dtype=np.int64)
    session.execute(delete(ProbLabel).where(*mine))
    fixed = {
        "project_id": Constant(project_id),
        "source": Constant(source),
        "label_model_run_id": Constant(run_id),
        "model_run_id": Constant(None),
        "created_at": Constant(db_timestamp(session)),
    }
    new: list[np.ndarray] = []
    for item_ids, probs in chunks:
        ids = np.asarray(item_ids, dtype=np.int64)
        columns = {**prob_label_columns(ids, probs, classes), **fixed}
        bulk_insert_columns(session, "prob_labels", columns, len(ids))
        new.append(ids)
    if old is not None:
        touched = np.unique(np.concatenate([old, *new]))
        project = session.get(Project, project_id)
        for start in range(0, len(touched), REFRESH_IDS):
            refresh_item_labels(session, project, touched[start : start + REFRESH_IDS].tolist())
    return sum(len(ids) for ids in new)


def store_prob_chunks(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None,
    run_fields: dict[str, Any],
    source: str,
    chunks: Iterable[tuple[np.ndarray, np.ndarray]],
) -> LabelModelRun:
    """In one write transaction: a new ``LabelModelRun`` of ``run_fields`` (params with
    ``classes``) whose chunks replace the project's ProbLabels from ``source``. Returns the run,
    detached from its session."""
    with session_scope(sessions) as session:
        start_write(session)
        run = LabelModelRun(project_id=project_id, job_id=job_id, **run_fields)
        session.add(run)
        session.flush()
        classes = run_fields["params"]["classes"]
        replace_prob_chunks(session, project_id, source, run.id, chunks, classes)
        session.expunge(run)
    return run


def run_params(applier: Applier, parts: list[Part]) -> dict[str, Any]:
    return {"engine": applier.engine, "scheduler": applier.scheduler, "n_parts": len(parts)}


def parts_progress(progress: Progress, start: float, span: float, what: str) -> Any:
    def done(n: int, total: int) -> None:
        progress(start + span * n / total, f"{n} of {total} parts {what}")

    return done


# Shared reads ----------------------------------------------------------------------------------


def human_classes(session: Session, project: Project, classes: list[str]) -> dict[int, int]:
    """Each human-labeled item's class index (labels that are no class, e.g. ambiguous, left
    out): :func:`labelapp.services.weak.common.human_label_index` as a dict."""
    index = {name: i for i, name in enumerate(classes)}
    return {i: index[lab] for i, lab in human_labels(session, project).items() if lab in index}


def id_chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), IDS_PER_QUERY):
        yield ids[start : start + IDS_PER_QUERY]


def by_position(session: Session, ids: list[int]) -> tuple[list[int], list[str]]:
    """``ids`` in position order, with their texts."""
    query = text("SELECT id, position, text FROM items WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    rows = [r for chunk in id_chunks(ids) for r in session.execute(query, {"ids": chunk})]
    rows.sort(key=lambda r: r[1])
    return [int(r[0]) for r in rows], [r[2] or "" for r in rows]


def parse_probs(raw: Any, n_classes: int) -> list[float]:
    probs = json.loads(raw) if isinstance(raw, str) else raw
    if len(probs) != n_classes:
        raise UserError(
            f"the label model was fitted for {len(probs)} classes but the project has "
            f"{n_classes}: apply the LFs and fit the label model again"
        )
    return probs
