"""The end model of a large project, part by part on ``dask.distributed``: fitted in the job process
on a sample of its training items (up to ``FIT_ROWS`` of them, texts read for those only), then
each Dask task reads one part's items, featurizes and predicts them, and returns the part's
probabilities (spooled to disk) with the few rows its scores need: the human-labeled items' class,
prediction and label-model probabilities. :func:`labelapp.services.weak.end_model.train_end_model`
hands over here when :func:`labelapp.services.weak.dask_apply.choose_applier` says "dask"; what
both share (the scores, the run's fields) lives here, so neither imports the other both ways.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import LabelModelRun, ProbLabel
from labelapp.progress import Progress
from labelapp.services.errors import UserError
from labelapp.services.featurizers import featurizer_setting
from labelapp.services.part_features import PartFeaturizer, fit_part_featurizer
from labelapp.services.partitions import (
    Part,
    dask_client,
    database_url_of,
    map_parts,
    plan_parts,
    read_part,
)
from labelapp.services.spool import PartSpool
from labelapp.services.weak.common import class_names, get_project
from labelapp.services.weak.prob_store import (
    by_position,
    human_classes,
    parse_probs,
    parts_progress,
    run_params,
    store_prob_chunks,
)
from labelapp.services.weak.propagation_parts import part_label_model

# The data stack loads in the functions that use it: web workers start without it.
if TYPE_CHECKING:
    import numpy as np

    from labelapp.services.weak.dask_apply import Applier

#: The end model is fitted on every training item up to this many label-model labels; above, on
#: every k-th item by position (as the label model's ``FIT_ROWS``): the texts of this many items
#: at most are read into the job process.
FIT_ROWS = 500_000

FEATURES = {
    "embeddings": "sentence embeddings of the texts (all-MiniLM-L6-v2, 384 dimensions)",
    "tfidf": "TF-IDF of the texts (single words, up to 200,000 terms)",
}
NO_LABEL_MODEL = "no label-model labels to learn from: fit the label model first"
NOTHING_TO_TRAIN = (
    "every item the label model labels also has a human label: nothing is left to train "
    "on without scoring on the training items; write LFs that cover unlabeled items"
)


def _scores(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """Accuracy and macro F1 (over the classes present in either), in percent."""
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "accuracy": round(100 * float(accuracy_score(y_true, y_pred)), 2),
        "f1_macro": round(
            100 * float(f1_score(y_true, y_pred, average="macro", zero_division=0)), 2
        ),
    }


def evaluate(human: np.ndarray, predicted: np.ndarray, lm_probs: np.ndarray) -> dict[str, Any]:
    """End-model scores on the human-labeled items, and the label model's on those it covers
    (with the end model's on the same items, for a like-for-like comparison)."""
    labeled = human >= 0
    out: dict[str, Any] = {"n_evaluated": int(labeled.sum())}
    if not labeled.any():
        return out
    out.update(_scores(human[labeled], predicted[labeled]))
    covered = labeled & (lm_probs.sum(axis=1) > 0)
    if covered.any():
        from weak_supervision.majority import probs_to_preds

        out["where_label_model"] = {
            "n": int(covered.sum()),
            "end_model": _scores(human[covered], predicted[covered]),
            "label_model": _scores(human[covered], probs_to_preds(lm_probs[covered])),
        }
    return out


def describe_model(model: Any) -> str:
    """What was fitted, read from the model (the library chooses its defaults)."""
    params = model.get_params()
    shown = ", ".join(f"{k}={params[k]}" for k in ("C", "solver") if k in params)
    return f"{type(model).__name__}({shown}), soft labels as per-class sample weights"


def fit_on(X: Any, lm_probs: np.ndarray) -> Any:
    """:func:`weak_supervision.end_model.fit_end_model` on training rows; a fit that cannot
    learn (e.g. the labels cover one class only) is a UserError."""
    from weak_supervision.end_model import fit_end_model

    try:
        return fit_end_model(X, lm_probs)
    except ValueError as exc:
        raise UserError(f"cannot train the end model: {exc}") from None


def end_model_fields(
    model: Any,
    lf_ids: list[int],
    classes: list[str],
    lm_run_id: int,
    featurizer: tuple[str, str | None],
    counts: tuple[int, int, int],
    scores: dict[str, Any],
) -> dict[str, Any]:
    """An end-model run's fields: ``featurizer`` (used, why not the setting), ``counts`` (items,
    training items, human-labeled items) and the :func:`evaluate` ``scores``."""
    used, reason = featurizer
    n_items, n_train, n_human = counts
    return {
        "kind": "end_model",
        "lf_ids": lf_ids,
        "params": {
            "classes": classes,
            "label_model_run_id": lm_run_id,
            "features": FEATURES[used],
            "estimator": describe_model(model),
        },
        "metrics": {
            "n_items": n_items,
            "n_train": n_train,
            "n_human": n_human,
            "label_model_run_id": lm_run_id,
            "featurizer": used,
            "featurizer_reason": reason,
            "evaluation": "held out: items with a human label are never trained on",
            **scores,
        },
    }


@dataclass(frozen=True)
class TrainingSample:
    """What the end model is fitted on: the label-model probabilities and texts of every
    ``step``-th training item (a label-model label, no human label) in position order, and the
    number of training items (``n_train``)."""

    probs: np.ndarray
    texts: list[str]
    step: int
    n_train: int


def training_sample(
    session: Session, project_id: int, human: dict[int, int], n_classes: int
) -> tuple[TrainingSample, int | None]:
    """The :class:`TrainingSample` (``step`` 1 up to ``FIT_ROWS`` label-model labels: every
    training item, as in process) and the latest label-model run (None: no labels). The
    label-model labels stream through in chunks, the texts of the sampled items only are read."""
    import numpy as np

    n_lm, lm_run_id = session.execute(
        select(func.count(), func.max(ProbLabel.label_model_run_id)).where(
            ProbLabel.project_id == project_id, ProbLabel.source == "label_model"
        )
    ).one()
    step = max(1, -(-n_lm // FIT_ROWS))
    rows = session.execute(
        text(
            "SELECT prob_labels.item_id, prob_labels.probs FROM prob_labels "
            "JOIN items ON items.id = prob_labels.item_id WHERE prob_labels.project_id = :p "
            "AND prob_labels.source = 'label_model' ORDER BY items.position"
        ).execution_options(yield_per=50_000),
        {"p": project_id},
    )
    ids: list[int] = []
    probs: list[list[float]] = []
    n_train = 0
    for item_id, raw in rows:
        if int(item_id) in human:
            continue
        if n_train % step == 0:
            ids.append(int(item_id))
            probs.append(parse_probs(raw, n_classes))
        n_train += 1
    text_of = dict(zip(*by_position(session, ids), strict=True))
    matrix = np.asarray(probs, dtype=float).reshape(len(ids), n_classes)
    return TrainingSample(matrix, [text_of[i] for i in ids], step, n_train), lm_run_id


class PartPrediction(NamedTuple):
    """A part's predictions (``item_ids``, ``probs``) and, for its human-labeled items only,
    their class, the end model's predicted class and the label-model probabilities (zero rows:
    none): what the scores need."""

    item_ids: np.ndarray
    probs: np.ndarray
    human: np.ndarray
    predicted: np.ndarray
    lm_probs: np.ndarray


def predict_part(
    part: Part,
    database_url: str,
    featurizer: PartFeaturizer,
    model: Any,
    human_rows: np.ndarray,
    n_classes: int,
) -> PartPrediction:
    """On a Dask worker: the fitted end model's probabilities of every item of ``part``, read
    and featurized here; ``human_rows`` are the project's ``(item id, class)`` human labels."""
    import numpy as np
    import pandas as pd

    frame = read_part(database_url, part)
    items = pd.Index(frame["item_id"].to_numpy())
    human = np.full(len(items), -1, dtype=np.int64)
    at = items.get_indexer(human_rows[:, 0])
    human[at[at >= 0]] = human_rows[at >= 0, 1]
    lm_probs = part_label_model(database_url, part, items, n_classes)
    probs = np.zeros((len(items), n_classes))
    if len(items):
        X = featurizer.transform(frame["text"].fillna("").tolist())
        probs[:, model.classes_] = model.predict_proba(X)
    labeled = human >= 0
    return PartPrediction(
        items.to_numpy(),
        probs,
        human[labeled],
        probs[labeled].argmax(axis=1),
        lm_probs[labeled],
    )


class _FittedEndModel(NamedTuple):
    """What every part needs (the fitted model and featurizer, classes, human labels, parts)
    and what the run records."""

    model: Any
    featurizer: PartFeaturizer
    classes: list[str]
    human: dict[int, int]
    lf_ids: list[int]
    lm_run_id: int
    parts: list[Part]
    n_fit_rows: int
    step: int
    n_train: int


def _fit_on_sample(
    sessions: sessionmaker[Session], project_id: int, progress: Progress
) -> _FittedEndModel:
    """The end model fitted in this process on the :func:`training_sample`, with the featurizer
    fitted on an even sample of the project's texts (:mod:`labelapp.services.part_features`)."""
    with session_scope(sessions) as session:
        project = get_project(session, project_id)
        if project.task_type != "text":
            raise UserError("the end model works on text projects (TF-IDF features of the texts)")
        classes = class_names(project)
        human = human_classes(session, project, classes)
        progress(0.05, "reading the training items")
        sample, lm_run_id = training_sample(session, project_id, human, len(classes))
        if lm_run_id is None:
            raise UserError(NO_LABEL_MODEL)
        if not sample.texts:
            raise UserError(NOTHING_TO_TRAIN)
        lf_ids = list(session.get(LabelModelRun, lm_run_id).lf_ids)
        setting = featurizer_setting(session, project)
        parts = plan_parts(session, project_id)
    progress(0.1, "fitting the featurizer")
    with session_scope(sessions) as session:
        featurizer = fit_part_featurizer(session, project_id, setting)
    progress(0.2, f"featurizing {len(sample.texts):,} training texts")
    X = featurizer.transform(sample.texts)
    progress(0.3, f"training on {len(sample.texts):,} label-model labels")
    model = fit_on(X, sample.probs)
    fitted = (model, featurizer, classes, human, lf_ids, lm_run_id, parts)
    return _FittedEndModel(*fitted, len(sample.texts), sample.step, sample.n_train)


def train_end_model_in_parts(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None,
    applier: Applier,
    progress: Progress,
) -> LabelModelRun:
    """:func:`labelapp.services.weak.end_model.train_end_model` of a large project: fitted in
    this process on up to ``FIT_ROWS`` training items (every one below that, so the fit of the
    in-process run when the featurizer is the same: TF-IDF up to 200,000 items), then each part
    predicted on Dask. Scores come from the parts' human-labeled rows, so they are the in-process
    ones for the same predictions. The run records the engine, the parts and the rows fitted on;
    a failing part raises before the write, leaving the previous ``model`` labels whole."""
    import numpy as np

    fit = _fit_on_sample(sessions, project_id, progress)
    human_rows = np.array(list(fit.human.items()), dtype=np.int64).reshape(-1, 2)
    k = len(fit.classes)
    args = (database_url_of(sessions), fit.featurizer, fit.model, human_rows, k)
    # per part, its human-labeled rows: class, predicted class, label-model probabilities
    judged = [(np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, k)))]
    with tempfile.TemporaryDirectory(prefix="labelapp-probs-") as tmp:
        spool = PartSpool(Path(tmp))
        progress(0.4, f"predicting on {applier.describe()} in {len(fit.parts)} parts")
        done = parts_progress(progress, 0.4, 0.4, "predicted")
        with dask_client(applier) as client:
            for _, part in map_parts(client, predict_part, fit.parts, *args, progress=done):
                spool.add(ids=part.item_ids, probs=part.probs)
                judged.append((part.human, part.predicted, part.lm_probs))
        human, predicted, lm_probs = (np.concatenate(rows) for rows in zip(*judged, strict=True))
        counts = (sum(p.n_items for p in fit.parts), fit.n_train, len(fit.human))
        featurizer = (fit.featurizer.used, fit.featurizer.reason)
        scores = evaluate(human, predicted, lm_probs)
        fields = end_model_fields(
            fit.model, fit.lf_ids, fit.classes, fit.lm_run_id, featurizer, counts, scores
        )
        fields["params"].update(run_params(applier, fit.parts))
        fields["metrics"].update(n_fit_rows=fit.n_fit_rows, fit_every=fit.step)
        progress(0.8, f"storing {spool.n_rows:,} probabilistic labels")
        return store_prob_chunks(
            sessions, project_id, job_id, fields, "model", spool.parts("ids", "probs")
        )
