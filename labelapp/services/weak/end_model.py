"""The end model: a classifier trained on the label model's probabilistic labels, so that items no
LF covers get a prediction too (:func:`weak_supervision.end_model.fit_end_model`).

It is trained on the items that hold a ``label_model`` probabilistic label and no human label, and
scored on every item with a human label (accuracy and macro F1): a held-out set it never saw. Its
predictions for every item are stored as ``model`` probabilistic labels, with an ``end_model``
run row (:class:`LabelModelRun`) recording the label-model run it learned from.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import LabelModelRun
from labelapp.progress import Progress, quiet
from labelapp.services.errors import UserError
from labelapp.services.featurizers import featurizer_setting, text_features
from labelapp.services.weak.common import get_project
from labelapp.services.weak.models import store_prob_run, text_data

FEATURES = {
    "embeddings": "sentence embeddings of the texts (all-MiniLM-L6-v2, 384 dimensions)",
    "tfidf": "TF-IDF of the texts (single words, up to 200,000 terms)",
}


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


def _describe(model: Any) -> str:
    """What was fitted, read from the model (the library chooses its defaults)."""
    params = model.get_params()
    shown = ", ".join(f"{k}={params[k]}" for k in ("C", "solver") if k in params)
    return f"{type(model).__name__}({shown}), soft labels as per-class sample weights"


def train_end_model(
    sessions: sessionmaker[Session],
    project_id: int,
    job_id: int | None = None,
    progress: Progress = quiet,
) -> LabelModelRun:
    """Train the end model on the latest label-model labels of items without a human label,
    score it on the human-labeled items, and store its predictions for every item."""
    from weak_supervision.end_model import fit_end_model

    with session_scope(sessions) as session:
        classes, frame, human, lm_probs, lm_run_id = text_data(session, project_id, "the end model")
        if lm_run_id is None:
            raise UserError("no label-model labels to learn from: fit the label model first")
        lf_ids = list(session.get(LabelModelRun, lm_run_id).lf_ids)
        setting = featurizer_setting(session, get_project(session, project_id))
    train = (lm_probs.sum(axis=1) > 0) & (human < 0)
    if not train.any():
        raise UserError(
            "every item the label model labels also has a human label: nothing is left to train "
            "on without scoring on the training items; write LFs that cover unlabeled items"
        )
    progress(0.1, f"featurizing {len(frame):,} texts")
    features = text_features(setting, frame["text"].fillna("").tolist())
    X = features.X
    progress(0.4, f"training on {int(train.sum()):,} label-model labels")
    try:
        model = fit_end_model(X[np.flatnonzero(train)], lm_probs[train])
    except ValueError as exc:  # e.g. the labels cover one class only
        raise UserError(f"cannot train the end model: {exc}") from None
    progress(0.7, "predicting every item")
    probs = np.zeros((len(frame), len(classes)))
    probs[:, model.classes_] = model.predict_proba(X)
    metrics: dict[str, Any] = {
        "n_items": len(frame),
        "n_train": int(train.sum()),
        "n_human": int((human >= 0).sum()),
        "label_model_run_id": lm_run_id,
        "featurizer": features.used,
        "featurizer_reason": features.reason,
        "evaluation": "held out: items with a human label are never trained on",
        **evaluate(human, probs.argmax(axis=1), lm_probs),
    }
    progress(0.8, "storing probabilistic labels")
    run_fields = {
        "kind": "end_model",
        "lf_ids": lf_ids,
        "params": {
            "classes": classes,
            "label_model_run_id": lm_run_id,
            "features": FEATURES[features.used],
            "estimator": _describe(model),
        },
        "metrics": metrics,
    }
    item_ids = frame["item_id"].to_numpy()
    return store_prob_run(sessions, project_id, job_id, run_fields, "model", item_ids, probs)
