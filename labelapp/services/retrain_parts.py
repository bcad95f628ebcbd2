"""The retrain of a large text project, part by part on ``dask.distributed``: no process holds
every text of the project.

:func:`~labelapp.services.retrain.retrain_project` comes here when
:func:`~labelapp.services.weak.dask_apply.choose_applier` sends the project to Dask (the rule LF
application follows: ``LABELAPP_DASK_SCHEDULER`` set, or ``LABELAPP_DASK_MIN_ITEMS`` items or more);
image projects are always scored in process.

The job process reads the human labels, the labeled items' texts (by id, in chunks) and the
settings; fits the featurizer (:func:`~labelapp.services.part_features.fit_part_featurizer`:
TF-IDF on an evenly spread sample of the project, or the embedding model) and the model on the
labeled items, with the same held-out items and metrics as the in-process retrain
(:func:`active_learning.part_scoring.fit_labeled`). Each Dask task (:func:`score_part`) then reads
one part of the items (:func:`~labelapp.services.partitions.read_part`), drops the labeled ones,
featurizes the rest and returns its best candidates (item ids, keys, feature rows); the job
process keeps the best of them as parts finish (:class:`~active_learning.part_scoring.BestRows`),
runs the strategy on those (:func:`~active_learning.part_scoring.rank_candidates`) and swaps the
queue priorities as the in-process retrain does
(:func:`~labelapp.services.retrain_run.save_ranking`).

What the candidates are, by strategy (the run row's ``prefilter``):

- margin, least confidence, entropy, committee: each item's score depends on that item alone, so
  every part returns its ``top_n`` best by the strategy's score and the queue is the one the
  in-process retrain gives (same items, order and priorities, with the same features; TF-IDF
  fitted on a sample differs slightly from TF-IDF fitted on every text when the project is larger
  than the sample);
- auto, cluster, region, diversity compare items with each other and would need the whole pool.
  They run on a **prefiltered pool**: the ``CANDIDATES_PER_TOP_N * top_n`` items the model is
  least sure of (smallest margin) over all parts, clustered together with the labeled items
  where the strategy clusters. Typical-but-certain items (auto's cold start) are therefore never
  among them: on a project this large the uncertain ten thousand are what a batch is drawn from.
- random: ``top_n`` items drawn uniformly (a fixed hash of the item id and the queue seed), then
  ordered at random by the strategy.

The job process holds the labeled items' features, their labels, and at most the kept candidates
plus one part's candidates; each Dask worker one part at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.services.errors import UserError
from labelapp.services.partitions import (
    Part,
    dask_client,
    database_url_of,
    map_parts,
    part_filter,
    plan_parts,
    read_part,
)

# Dask workers import this module for score_part: no Flask (labelapp.models) and no data stack
# at import time.
if TYPE_CHECKING:
    import numpy as np

    from active_learning.part_scoring import PartBest, PartScorer
    from labelapp.models import ModelRun
    from labelapp.services.featurizers import FeaturizerSetting
    from labelapp.services.part_features import PartFeaturizer
    from labelapp.services.weak.dask_apply import Applier

#: Prefiltered strategies (auto, cluster, region, diversity) see this many times ``top_n`` items.
CANDIDATES_PER_TOP_N = 5
#: Labeled items' texts read per statement.
IDS_PER_STATEMENT = 1_000


def score_part(
    part: Part,
    database_url: str,
    featurizer: PartFeaturizer,
    scorer: PartScorer,
    labeled_ids: np.ndarray,
    keep: int,
) -> PartBest:
    """On a Dask worker: ``part``'s ``keep`` best unlabeled items by ``scorer`` (item ids, keys,
    feature rows), and how many unlabeled items it has. ``labeled_ids`` sorted."""
    import numpy as np

    from active_learning.part_scoring import best_rows

    frame = read_part(database_url, part)
    ids = frame["item_id"].to_numpy()
    pool = ~np.isin(ids, labeled_ids, assume_unique=True)
    ids = ids[pool]
    if not ids.shape[0]:
        return best_rows(scorer, None, ids, keep)
    texts = ["" if t is None else t for t in frame["text"].to_numpy()[pool]]
    del frame
    return best_rows(scorer, featurizer.transform(texts), ids, keep)


def retrain_in_parts(
    sessions: sessionmaker[Session],
    project_id: int,
    applier: Applier,
    job_id: int | None = None,
    progress: Callable[[float, str], None] = lambda f, m: None,
) -> ModelRun:
    """Fit the project's model on its human labels, score its items part by part on
    ``applier``'s cluster and reorder its queue by the strategy (see the module's docstring)."""
    import numpy as np

    from active_learning.part_scoring import (
        fit_labeled,
        part_scorer,
        prefilter_of,
        rank_candidates,
    )
    from labelapp.services.retrain_run import (
        Ranking,
        model_run,
        read_snapshot,
        save_ranking,
        top_n_of,
    )

    snap = read_snapshot(sessions, project_id, with_data=False)
    if snap.setting is None:  # not reached: image projects are scored in process
        raise UserError("image projects are retrained in process")
    with session_scope(sessions) as session:
        parts = plan_parts(session, project_id)
    if not parts:
        raise UserError("the project has no items yet: import some first")
    n_items = sum(p.n_items for p in parts)
    ids, rows, texts = _labeled_items(sessions, snap.order, parts)
    progress(0.05, f"{len(ids):,} labeled items, {n_items:,} in all, in {len(parts)} parts")
    featurizer, X_labeled = _labeled_features(sessions, project_id, snap.setting, texts)
    del texts
    y = np.array([snap.labels[int(i)] for i in ids])
    fit = fit_labeled(X_labeled, y, rows, strategy=snap.strategy, random_state=snap.seed)

    top_n = top_n_of(snap.batch_size)
    prefilter = prefilter_of(snap.strategy)
    keep = top_n if prefilter in (None, "random") else CANDIDATES_PER_TOP_N * top_n
    progress(0.2, f"scoring {len(parts)} parts on {applier.describe()}")
    best = _score_parts(
        sessions,
        applier,
        parts,
        featurizer,
        part_scorer(fit, snap.seed),
        np.unique(ids),
        keep,
        progress,
    )
    progress(0.8, f"ranking {len(best.item_ids):,} candidates; swapping queue priorities")
    ranked = rank_candidates(
        fit,
        X_labeled,
        best.X,
        best.n_pool,
        batch_size=snap.batch_size,
        top_n=top_n,
        random_state=snap.seed,
    )
    ranking = Ranking(best.item_ids[ranked.order], ranked.priority, ranked.score)
    run = model_run(
        project_id,
        job_id,
        snap,
        featurizer.used,
        featurizer.reason,
        fit.result,
        top_n,
        engine="dask",
        scheduler=applier.scheduler,
        n_parts=len(parts),
        n_candidates=len(best.item_ids),
        prefilter=prefilter,
    )
    return save_ranking(sessions, run, ranking)


def _score_parts(
    sessions: sessionmaker[Session],
    applier: Applier,
    parts: Sequence[Part],
    featurizer: PartFeaturizer,
    scorer: PartScorer,
    labeled_ids: np.ndarray,
    keep: int,
    progress: Callable[[float, str], None],
) -> Any:
    """Every part scored on ``applier``'s cluster; the ``keep`` best rows over all parts
    (:class:`~active_learning.part_scoring.BestRows`), merged as parts finish."""
    from active_learning.part_scoring import BestRows

    best = BestRows(keep)

    def scored(done: int, total: int) -> None:
        progress(0.2 + 0.6 * done / total, f"{done} of {total} parts scored")

    with dask_client(applier) as client:
        url = database_url_of(sessions)
        for part, found in map_parts(
            client, score_part, parts, url, featurizer, scorer, labeled_ids, keep, progress=scored
        ):
            best.add(part.index, found)
    return best


def _labeled_items(
    sessions: sessionmaker[Session], order: Sequence[int], parts: Sequence[Part]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The labeled items still in the project, oldest labeled first: their ids, their row
    numbers in the project's position order (which of them are held out depends on these) and
    their texts, read by id in chunks."""
    import numpy as np

    from labelapp.models import Item

    found: dict[int, tuple[int, str]] = {}
    with session_scope(sessions) as session:
        for start in range(0, len(order), IDS_PER_STATEMENT):
            chunk = list(order[start : start + IDS_PER_STATEMENT])
            rows = session.execute(
                select(Item.id, Item.position, Item.text).where(Item.id.in_(chunk))
            )
            found.update((r[0], (r[1], r[2] or "")) for r in rows)
        ids = np.array([i for i in order if i in found], dtype=np.int64)
        positions = np.array([found[int(i)][0] for i in ids], dtype=np.int64)
        row_numbers = _row_numbers(session, parts, positions)
    return ids, row_numbers, [found[int(i)][1] for i in ids]


def _row_numbers(session: Session, parts: Sequence[Part], positions: np.ndarray) -> np.ndarray:
    """Each position's row number among the project's items in position order: from the part
    boundaries where a part's positions have no gaps (one import: consecutive), else from that
    part's positions (read for parts holding labeled items only)."""
    import numpy as np

    firsts = np.array([p.first for p in parts], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum([p.n_items for p in parts])[:-1]])
    which = np.searchsorted(firsts, positions, side="right") - 1
    rows = np.empty(positions.shape[0], dtype=np.int64)
    for k in np.unique(which):
        part, mine = parts[int(k)], which == k
        if _gapless(session, part):
            rows[mine] = offsets[k] + positions[mine] - part.first
            continue
        where, params = part_filter(part)
        in_part = np.fromiter(
            session.scalars(
                text(f"SELECT position FROM items WHERE {where} ORDER BY position"), params
            ),
            dtype=np.int64,
        )
        rows[mine] = offsets[k] + np.searchsorted(in_part, positions[mine])
    return rows


def _gapless(session: Session, part: Part) -> bool:
    """Whether ``part``'s positions run from its first without a gap."""
    last = part.stop
    if last is None:
        where, params = part_filter(part)
        last = session.scalar(text(f"SELECT max(position) + 1 FROM items WHERE {where}"), params)
    return last is not None and int(last) - part.first == part.n_items


def _labeled_features(
    sessions: sessionmaker[Session],
    project_id: int,
    setting: FeaturizerSetting,
    texts: list[str],
) -> tuple[PartFeaturizer, Any]:
    """The featurizer every part uses and the labeled texts' features; TF-IDF (with the reason)
    when the embedding model cannot load, as in process."""
    from dataclasses import replace

    from active_learning.embeddings import EmbeddingsUnavailable
    from labelapp.services.part_features import fit_part_featurizer

    with session_scope(sessions) as session:
        featurizer = fit_part_featurizer(session, project_id, setting)
    try:
        return featurizer, featurizer.transform(texts)
    except EmbeddingsUnavailable as exc:
        with session_scope(sessions) as session:
            tfidf = fit_part_featurizer(session, project_id, replace(setting, featurizer="tfidf"))
        featurizer = replace(tfidf, reason=f"{exc} TF-IDF is used instead")
        return featurizer, featurizer.transform(texts)
