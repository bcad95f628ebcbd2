"""The end model: a classifier trained on the label model's probabilistic labels, so that items no
LF covers get a prediction too (:func:`weak_supervision.end_model.fit_end_model`).

It is trained on the items that hold a ``label_model`` probabilistic label and no human label, and
scored on every item with a human label (accuracy and macro F1): a held-out set it never saw. Its
predictions for every item are stored as ``model`` probabilistic labels, with an ``end_model``
run row (:class:`LabelModelRun`) recording the label-model run it learned from. Large projects go
part by part on Dask (:mod:`labelapp.services.weak.end_model_parts`, where the scores and the
run's fields that both share live).
"""

from __future__ import annotations

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import LabelModelRun
from labelapp.progress import Progress, quiet
from labelapp.services.errors import UserError
from labelapp.services.featurizers import featurizer_setting, text_features
from labelapp.services.weak.common import get_project
from labelapp.services.weak.end_model_parts import (
    NO_LABEL_MODEL,
    NOTHING_TO_TRAIN,
    end_model_fields,
    evaluate,
    fit_on,
    train_end_model_in_parts,
)
from labelapp.services.weak.models import project_applier, store_prob_run, text_data


def train_end_model(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None = None,
    progress: Progress = quiet,
) -> LabelModelRun:
    """Train the end model on the latest label-model labels of items without a human label,
    score it on the human-labeled items, and store its predictions for every item. Large
    projects go part by part on Dask
    (:func:`labelapp.services.weak.end_model_parts.train_end_model_in_parts`)."""
    applier = project_applier(sessions, project_id)
    if applier.engine == "dask":
        return train_end_model_in_parts(sessions, project_id, job_id, applier, progress)
    with session_scope(sessions) as session:
        classes, frame, human, lm_probs, lm_run_id = text_data(session, project_id, "the end model")
        if lm_run_id is None:
            raise UserError(NO_LABEL_MODEL)
        lf_ids = list(session.get(LabelModelRun, lm_run_id).lf_ids)
        setting = featurizer_setting(session, get_project(session, project_id))
    train = (lm_probs.sum(axis=1) > 0) & (human < 0)
    if not train.any():
        raise UserError(NOTHING_TO_TRAIN)
    progress(0.1, f"featurizing {len(frame):,} texts")
    features = text_features(setting, frame["text"].fillna("").tolist())
    X = features.X
    progress(0.4, f"training on {int(train.sum()):,} label-model labels")
    model = fit_on(X[np.flatnonzero(train)], lm_probs[train])
    progress(0.7, "predicting every item")
    probs = np.zeros((len(frame), len(classes)))
    probs[:, model.classes_] = model.predict_proba(X)
    counts = (len(frame), int(train.sum()), int((human >= 0).sum()))
    scores = evaluate(human, probs.argmax(axis=1), lm_probs)
    featurizer = (features.used, features.reason)
    run_fields = end_model_fields(model, lf_ids, classes, lm_run_id, featurizer, counts, scores)
    run_fields["params"]["engine"] = "pandas"
    progress(0.8, "storing probabilistic labels")
    item_ids = frame["item_id"].to_numpy()
    return store_prob_run(sessions, project_id, job_id, run_fields, "model", item_ids, probs)
