"""Score majority vote and the default label-model pipeline on a WRENCH-format folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from weak_supervision.majority import majority_vote
from weak_supervision.metrics import score
from weak_supervision.pipeline import choose_label_model
from weak_supervision.wrench import load_wrench


def evaluate_wrench(path: str | Path, metric: str = "f1", **train_kwargs: Any) -> dict[str, Any]:
    """Fit on ``train`` (``valid`` when train is missing) without labels, choose the aggregator
    on ``valid``'s human labels, and score both on ``test``. Returns the scores, the chosen
    candidate and every candidate's valid scores."""
    ds = load_wrench(path)
    fit_split = ds.splits.get("train", ds.splits["valid"])
    valid, test = ds.splits["valid"], ds.splits["test"]
    if (test.labels < 0).any():
        raise ValueError(f"{path}/test.json: every test item needs a gold label to be scored")
    k = ds.n_classes
    choice = choose_label_model(
        fit_split.weak_labels,
        k,
        L_dev=valid.weak_labels,
        y_dev=valid.labels,
        metric=metric,
        **train_kwargs,
    )
    return {
        "dataset": Path(path).name,
        "n_classes": k,
        "n_lfs": int(test.weak_labels.shape[1]),
        "fit_split": fit_split.name,
        "chosen": choice.name,
        "valid_scores": choice.scores,
        "majority_vote": score(test.labels, majority_vote(test.weak_labels, k), k),
        "label_model": score(test.labels, choice.predict(test.weak_labels), k),
    }
