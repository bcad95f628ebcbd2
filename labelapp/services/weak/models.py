"""The label model (chosen from the zoo on human labels) and label propagation, with their
probabilistic labels stored per item and source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import (
    LabelModelRun,
    ProbLabel,
)
from labelapp.progress import Progress, quiet
from labelapp.services.errors import UserError
from labelapp.services.featurizers import featurizer_setting, project_item_count, text_features
from labelapp.services.weak.common import (
    SEED_THRESHOLD,
    class_names,
    get_project,
    human_label_index,
    items_frame,
)
from labelapp.services.weak.dask_apply import Applier, choose_applier
from labelapp.services.weak.label_model_parts import fit_label_model_in_parts, label_model_fields
from labelapp.services.weak.prob_store import replace_prob_chunks, store_prob_chunks
from labelapp.services.weak.propagation_parts import propagate_in_parts
from labelapp.services.weak.votes import vote_matrix

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


def replace_prob_labels(
    session: Session,
    project_id: int,
    source: str,
    run_id: int,
    item_ids: np.ndarray,
    probs: np.ndarray,
    classes: list[str],
) -> None:
    """The project's probabilistic labels from ``source`` become those of this run; the items
    whose resolved label they can change (the old run's and this one's) are refreshed."""
    replace_prob_chunks(session, project_id, source, run_id, [(item_ids, probs)], classes)


def store_prob_run(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None,
    run_fields: dict[str, Any],
    source: str,
    item_ids: np.ndarray,
    probs: np.ndarray,
) -> LabelModelRun:
    """In one write transaction: a new ``LabelModelRun`` of ``run_fields`` (kind, lf_ids, params
    with ``classes``, metrics), whose ``probs`` of ``item_ids`` replace the project's
    probabilistic labels from ``source``. Returns the run, detached from its session."""
    return store_prob_chunks(sessions, project_id, job_id, run_fields, source, [(item_ids, probs)])


def project_applier(sessions: sessionmaker[Session], project_id: int) -> Applier:
    """Where the project's label model and propagation run: in process, or part by part on
    Dask (:func:`labelapp.services.weak.dask_apply.choose_applier`'s rule, as LF application)."""
    with session_scope(sessions) as session:
        return choose_applier(project_item_count(session, project_id))


def fit_label_model(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None = None,
    progress: Progress = quiet,
) -> LabelModelRun:
    """Fit the default label-model pipeline on the stored votes; the human labels choose the
    aggregator and the class balance. Items some LF voted on get a ``label_model`` ProbLabel.
    Large projects go part by part on Dask (:mod:`labelapp.services.weak.label_model_parts`)."""
    from weak_supervision.zoo import select_label_model

    applier = project_applier(sessions, project_id)
    if applier.engine == "dask":
        return fit_label_model_in_parts(sessions, project_id, job_id, applier, progress)
    with session_scope(sessions) as session:
        project = get_project(session, project_id)
        classes = class_names(project)
        L, lfs, frame = vote_matrix(session, project_id)
        human = human_label_index(session, project, frame["item_id"].to_numpy())
    if not lfs:
        raise UserError("no active labeling functions: write or load some first")
    covered = (L >= 0).any(axis=1)
    if not covered.any():
        raise UserError("no stored votes: apply the labeling functions first")
    progress(0.2, f"fitting on {int(covered.sum()):,} covered items, {len(lfs)} LFs")
    k = len(classes)
    labeled = human >= 0
    # The zoo (Snorkel, majority votes, weighted majority, Dawid-Skene, FlyingSquid,
    # semi-supervised...), one chosen by cross-validation on the project's human labels.
    choice = select_label_model(L, human, k)
    probs = choice.predict_proba(L)
    judged = labeled & covered
    counts = (len(L), int(covered.sum()), int(labeled.sum()))
    run_fields = label_model_fields(
        choice, [lf.id for lf in lfs], classes, counts, (human[judged], probs[judged])
    )
    run_fields["params"]["engine"] = "pandas"
    progress(0.7, "storing probabilistic labels")
    item_ids = frame["item_id"].to_numpy()[covered]
    return store_prob_run(
        sessions, project_id, job_id, run_fields, "label_model", item_ids, probs[covered]
    )


def label_model_matrix(
    session: Session, project_id: int, frame: pd.DataFrame, k: int
) -> tuple[np.ndarray, int | None]:
    """The stored label-model probabilities as an ``(items, k)`` matrix in ``frame``'s order
    (zero rows: no label), and the latest run that produced them (None: there are none)."""
    import numpy as np
    import pandas as pd

    rows = session.execute(
        select(ProbLabel.item_id, ProbLabel.probs, ProbLabel.label_model_run_id).where(
            ProbLabel.project_id == project_id, ProbLabel.source == "label_model"
        )
    ).all()
    probs = np.zeros((len(frame), k))
    if not rows:
        return probs, None
    widths = {len(r[1]) for r in rows}
    if widths != {k}:
        raise UserError(
            f"the label model was fitted for {sorted(widths)} classes but the project has {k}: "
            "apply the LFs and fit the label model again"
        )
    position = pd.Series(np.arange(len(frame)), index=frame["item_id"].to_numpy())
    probs[position.loc[[r[0] for r in rows]].to_numpy()] = np.array([r[1] for r in rows], float)
    return probs, max(r[2] for r in rows)


class TextData(NamedTuple):
    """What propagation and the end model learn from, in the items' import order: the class
    names, the items, each item's human label index (-1: none), the label-model probabilities
    (zero rows: no label) and the run that produced them (None: the label model never ran)."""

    classes: list[str]
    frame: pd.DataFrame
    human: np.ndarray
    lm_probs: np.ndarray
    lm_run_id: int | None


def text_data(session: Session, project_id: int, purpose: str) -> TextData:
    """:class:`TextData` of a text project; ``purpose`` names the step in the error for others."""
    project = get_project(session, project_id)
    if project.task_type != "text":
        raise UserError(f"{purpose} works on text projects (TF-IDF features of the texts)")
    classes = class_names(project)
    frame = items_frame(session, project_id)
    human = human_label_index(session, project, frame["item_id"].to_numpy())
    lm_probs, lm_run_id = label_model_matrix(session, project_id, frame, len(classes))
    return TextData(classes, frame, human, lm_probs, lm_run_id)


def _held_out_accuracy(
    graph: Any,
    human: np.ndarray,
    lm_probs: np.ndarray,
    has_lm: np.ndarray,
    threshold: float,
    n_classes: int,
) -> dict[str, Any]:
    """Reach and accuracy on a fifth of the human labels (at least 10) held out of the seeds;
    empty when there are too few labels or no seeds without them."""
    import numpy as np

    from weak_supervision.propagation import propagate_on_graph, propagation_seeds

    labeled = np.flatnonzero(human >= 0)
    if len(labeled) < 10:
        return {}
    held = np.random.default_rng(0).choice(labeled, size=max(1, len(labeled) // 5), replace=False)
    masked = human.copy()
    masked[held] = -1
    seeds = propagation_seeds(masked, lm_probs, threshold, lm_mask=has_lm)
    if not (seeds >= 0).any():
        return {}
    probs = propagate_on_graph(graph, seeds, n_classes)
    reached = probs[held].sum(axis=1) > 0
    out: dict[str, Any] = {"n_evaluated": int(reached.sum()), "eval_reach": float(reached.mean())}
    if reached.any():
        predicted = probs[held][reached].argmax(axis=1)
        out["accuracy"] = round(100 * float((predicted == human[held][reached]).mean()), 2)
    return out


def propagate(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None = None,
    progress: Progress = quiet,
    n_neighbors: int = 10,
    threshold: float = SEED_THRESHOLD,
) -> LabelModelRun:
    """Spread human labels and confident label-model labels over a kNN graph of the project's
    features (embeddings or TF-IDF); every item the graph reaches gets a ``propagation``
    ProbLabel. Accuracy is measured on a fifth of the human labels held out of the seeds (then
    all seeds are used). Large projects go part by part on Dask, one graph per part plus the
    seeds (:func:`labelapp.services.weak.propagation_parts.propagate_in_parts`)."""
    from weak_supervision.propagation import neighbour_graph, propagate_on_graph, propagation_seeds

    applier = project_applier(sessions, project_id)
    if applier.engine == "dask":
        return propagate_in_parts(
            sessions, project_id, job_id, applier, progress, n_neighbors, threshold
        )
    with session_scope(sessions) as session:
        classes, frame, human, lm_probs, lm_run = text_data(
            session, project_id, "label propagation"
        )
        setting = featurizer_setting(session, get_project(session, project_id))
    k = len(classes)
    has_lm = lm_probs.sum(axis=1) > 0
    if not (human >= 0).any() and not has_lm.any():
        raise UserError("nothing to propagate: label some items or fit the label model first")
    if len(frame) < 3:
        raise UserError("label propagation needs at least 3 items")
    progress(0.2, "featurizing texts")
    features = text_features(setting, frame["text"].fillna("").tolist())
    metrics: dict[str, Any] = {
        "n_items": len(frame),
        "label_model_run_id": lm_run,
        "features": features.used,
        "featurizer_reason": features.reason,
    }
    progress(0.3, "building the neighbour graph")
    graph = neighbour_graph(features.X, n_neighbors)  # built once: it does not depend on seeds
    progress(0.4, "measuring on held-out human labels")
    metrics.update(_held_out_accuracy(graph, human, lm_probs, has_lm, threshold, k))
    progress(0.6, "propagating")
    seeds = propagation_seeds(human, lm_probs, threshold, lm_mask=has_lm)
    probs = propagate_on_graph(graph, seeds, k)
    reached = probs.sum(axis=1) > 0
    probs[reached] /= probs[reached].sum(axis=1, keepdims=True)
    metrics.update(
        n_seeds=int((seeds >= 0).sum()),
        n_seeds_human=int((human >= 0).sum()),
        n_reached=int(reached.sum()),
        n_new=int((reached & ~has_lm & (human < 0)).sum()),  # no LF covered, no human label
    )
    progress(0.8, "storing probabilistic labels")
    run_fields = {
        "kind": "propagation",
        "lf_ids": [],
        "params": {
            "classes": classes,
            "n_neighbors": n_neighbors,
            "threshold": threshold,
            "features": features.used,
            "engine": "pandas",
        },
        "metrics": metrics,
    }
    item_ids = frame["item_id"].to_numpy()[reached]
    return store_prob_run(
        sessions, project_id, job_id, run_fields, "propagation", item_ids, probs[reached]
    )
