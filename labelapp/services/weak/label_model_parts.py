"""The label model of a large project, part by part on ``dask.distributed``: fitted in the job
process on the stored votes (integers, no texts), then each Dask task predicts one part from its
votes. :func:`labelapp.services.weak.models.fit_label_model` hands over here when
:func:`labelapp.services.weak.dask_apply.choose_applier` says "dask" for the project's size.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import LabelModelRun
from labelapp.progress import Progress
from labelapp.services.errors import UserError
from labelapp.services.partitions import (
    Part,
    dask_client,
    database_url_of,
    engine_for,
    map_parts,
    part_filter,
    plan_parts,
)
from labelapp.services.spool import PartSpool
from labelapp.services.weak.common import class_names, get_project
from labelapp.services.weak.lfs import latest_lfs
from labelapp.services.weak.prob_store import (
    human_classes,
    id_chunks,
    parts_progress,
    run_params,
    store_prob_chunks,
)

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import numpy as np

    from labelapp.services.weak.dask_apply import Applier

#: The label model is fitted on every item up to this many items; above, on every k-th item by
#: position plus every human-labeled item (the zoo's choice at 1M rows and 10 LFs: 20 s).
FIT_ROWS = 500_000


def _votes_query(where: str) -> Any:
    """Votes of the LFs ``:lfs`` on the items ``where`` selects."""
    return text(
        "SELECT weak_labels.item_id, weak_labels.lf_id, weak_labels.vote FROM weak_labels "
        f"JOIN items ON items.id = weak_labels.item_id WHERE {where} "
        "AND weak_labels.lf_id IN :lfs"
    ).bindparams(bindparam("lfs", expanding=True))


def _fill(L: np.ndarray, rows: Any, items: Any, lfs: Any) -> None:
    """Write vote rows ``(item id, LF id, vote)`` into ``L`` (rows: ``items``, columns: ``lfs``,
    both pandas indexes); votes of other items are skipped."""
    import numpy as np

    votes = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
    r = items.get_indexer(votes[:, 0])
    keep = r >= 0
    L[r[keep], lfs.get_indexer(votes[keep, 1])] = votes[keep, 2]


def fit_rows(
    session: Session, project_id: int, lf_ids: list[int], human: dict[int, int], n_items: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """What the label model is fitted on: the ``(rows, LFs)`` votes and the human class per row
    (-1: none) of every ``step``-th item by position plus every human-labeled item, in position
    order (``step`` 1 up to ``FIT_ROWS`` items: every item, as in process). Returns ``step``.

    The sample keeps items no LF covers, in their share, as the in-process fit does (Snorkel's
    model reads the LFs' abstain rates); every human label is kept, since the zoo's
    cross-validation and the label-using candidates learn from them, so labeled items weigh a
    little more in the fit than in the project."""
    import numpy as np
    import pandas as pd

    step = max(1, -(-n_items // FIT_ROWS))
    rows = session.execute(
        text("SELECT id, position FROM items WHERE project_id = :p AND position % :step = 0"),
        {"p": project_id, "step": step},
    ).all()
    sampled = {int(r[0]) for r in rows}
    extra = [i for i in human if i not in sampled]
    query = text("SELECT id, position FROM items WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    rows += [r for chunk in id_chunks(extra) for r in session.execute(query, {"ids": chunk})]
    rows.sort(key=lambda r: r[1])
    items = pd.Index(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
    lfs = pd.Index(lf_ids)
    L = np.full((len(items), len(lf_ids)), -1, dtype=np.int16)
    where = "items.project_id = :p AND items.position % :step = 0"
    params = {"p": project_id, "step": step, "lfs": lf_ids}
    _fill(L, session.execute(_votes_query(where), params).all(), items, lfs)
    by_id = _votes_query("weak_labels.item_id IN :ids").bindparams(bindparam("ids", expanding=True))
    for chunk in id_chunks(extra):
        _fill(L, session.execute(by_id, {"ids": chunk, "lfs": lf_ids}).all(), items, lfs)
    y = np.fromiter((human.get(int(i), -1) for i in items), dtype=np.int64, count=len(items))
    return L, y, step


def predict_part(
    part: Part, database_url: str, lf_ids: tuple[int, ...], predictor: Any, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """On a Dask worker: the fitted label model's probabilities of ``part``'s covered items
    (some LF voted), read from ``weak_labels``: ``(item ids, probs)``."""
    import numpy as np
    import pandas as pd

    from weak_supervision.majority import check_votes

    where, params = part_filter(part)
    with engine_for(database_url).connect() as conn:
        rows = conn.execute(_votes_query(where), {**params, "lfs": list(lf_ids)}).all()
    if not rows:
        return np.empty(0, np.int64), np.empty((0, n_classes))
    votes = np.asarray(rows, dtype=np.int64)
    ids, row = np.unique(votes[:, 0], return_inverse=True)
    L = np.full((len(ids), len(lf_ids)), -1, dtype=np.int16)
    L[row, pd.Index(list(lf_ids)).get_indexer(votes[:, 1])] = votes[:, 2]
    return ids, predictor(check_votes(L, n_classes))


def label_model_fields(
    choice: Any,
    lf_ids: list[int],
    classes: list[str],
    counts: tuple[int, int, int],
    judged: tuple[np.ndarray, np.ndarray],
) -> dict[str, Any]:
    """A label-model run's fields: ``counts`` (items, covered items, human-labeled items) and
    the ``judged`` (human classes, probabilities) of the covered human-labeled items."""
    from weak_supervision.majority import probs_to_preds
    from weak_supervision.metrics import score
    from weak_supervision.zoo import USES_LABELS

    n_items, n_covered, n_human = counts
    y, probs = judged
    metrics: dict[str, Any] = {
        "chosen": choice.name,
        "chosen_because": choice.reason,
        "chosen_reads_labels": choice.name in USES_LABELS,  # then n_evaluated is in-sample
        "candidates": choice.scores,
        "n_items": n_items,
        "n_covered": n_covered,
        "coverage": n_covered / n_items if n_items else 0.0,
        "n_human": n_human,
        "n_evaluated": len(y),
    }
    if len(y):
        metrics.update(score(y, probs_to_preds(probs), len(classes)))
    balance = choice.class_balance
    return {
        "kind": "label_model",
        "lf_ids": lf_ids,
        "params": {
            "classes": classes,
            "class_balance": None if balance is None else [float(x) for x in balance],
        },
        "metrics": metrics,
    }


def fit_label_model_in_parts(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None,
    applier: Applier,
    progress: Progress,
) -> LabelModelRun:
    """:func:`labelapp.services.weak.models.fit_label_model` of a large project: the zoo's
    choice fitted in this process on the votes :func:`fit_rows` reads (small integers, no
    texts; up to ``FIT_ROWS`` items every item, so the same fit as in process), then applied
    to every part on Dask, each task reading its part's votes. The run records the engine,
    the parts and the rows fitted on."""
    import numpy as np

    from weak_supervision.zoo import select_label_model

    with session_scope(sessions) as session:
        project = get_project(session, project_id)
        classes = class_names(project)
        lf_ids = [lf.id for lf in latest_lfs(session, project_id, active_only=True)]
        if not lf_ids:
            raise UserError("no active labeling functions: write or load some first")
        human = human_classes(session, project, classes)
        parts = plan_parts(session, project_id)
        n_items = sum(p.n_items for p in parts)
        L, y, step = fit_rows(session, project_id, lf_ids, human, n_items)
    covered = (L >= 0).any(axis=1)
    if not covered.any():
        raise UserError("no stored votes: apply the labeling functions first")
    progress(0.1, f"fitting on {len(L):,} of {n_items:,} items, {len(lf_ids)} LFs")
    k = len(classes)
    choice = select_label_model(L, y, k)
    judged = covered & (y >= 0)
    judged_probs = choice.predict_proba(L[judged]) if judged.any() else np.empty((0, k))
    url = database_url_of(sessions)
    with tempfile.TemporaryDirectory(prefix="labelapp-probs-") as tmp:
        spool = PartSpool(Path(tmp))
        progress(0.3, f"predicting on {applier.describe()} in {len(parts)} parts")
        done = parts_progress(progress, 0.3, 0.5, "predicted")
        args = (url, tuple(lf_ids), choice.predictor(), k)  # the predictor: kilobytes
        with dask_client(applier) as client:
            for _, (ids, probs) in map_parts(client, predict_part, parts, *args, progress=done):
                spool.add(ids=ids, probs=probs)
        counts = (n_items, spool.n_rows, int((y >= 0).sum()))
        fields = label_model_fields(choice, lf_ids, classes, counts, (y[judged], judged_probs))
        fields["params"].update(run_params(applier, parts))
        fields["metrics"].update(n_fit_rows=len(L), fit_every=step)
        progress(0.8, f"storing {spool.n_rows:,} probabilistic labels")
        return store_prob_chunks(
            sessions, project_id, job_id, fields, "label_model", spool.parts("ids", "probs")
        )
