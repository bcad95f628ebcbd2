"""Score the label-model zoo on a WRENCH-format folder, as ``labelapp ws evaluate`` prints it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from weak_supervision.majority import majority_vote
from weak_supervision.metrics import score
from weak_supervision.wrench import load_wrench
from weak_supervision.zoo import CANDIDATES, select_label_model


def default_metric(n_classes: int) -> str:
    """F1 of class 1 for two classes, accuracy otherwise (WRENCH's metrics for most sets)."""
    return "f1" if n_classes == 2 else "accuracy"


def evaluate_wrench(
    path: str | Path,
    metric: str | None = None,
    candidates: tuple[str, ...] = CANDIDATES,
    n_folds: int = 5,
    n_repeats: int = 2,
    **snorkel_kwargs: Any,
) -> dict[str, Any]:
    """Fit every candidate on the votes of ``train`` and ``valid`` (``valid`` alone when there
    is no train.json), with valid's human labels for the models that use labels; choose one by
    cross-validation over valid's labels (the WRENCH protocol lets valid tune and select) and
    score every candidate on ``test``, whose labels are read only to score."""
    ds = load_wrench(path)
    valid, test = ds.splits["valid"], ds.splits["test"]
    if (test.labels < 0).any():
        raise ValueError(f"{path}/test.json: every test item needs a gold label to be scored")
    k = ds.n_classes
    metric = metric or default_metric(k)
    train = ds.splits.get("train")
    L = valid.weak_labels if train is None else np.vstack([train.weak_labels, valid.weak_labels])
    y = (
        valid.labels
        if train is None
        else np.concatenate([np.full(len(train.labels), -1), valid.labels])
    )
    selection = select_label_model(
        L,
        y,
        k,
        metric=metric,
        candidates=candidates,
        n_folds=n_folds,
        n_repeats=n_repeats,
        **snorkel_kwargs,
    )
    test_scores = {
        name: score(test.labels, selection.predict(test.weak_labels, name), k)
        for name in selection.candidates
    }
    return {
        "dataset": Path(path).name,
        "n_classes": k,
        "n_lfs": int(test.weak_labels.shape[1]),
        "fit_split": "valid" if train is None else "train+valid",
        "metric": metric,
        "chosen": selection.name,
        "reason": selection.reason,
        "valid_scores": selection.scores,
        "test_scores": test_scores,
        "majority_vote": score(test.labels, majority_vote(test.weak_labels, k), k),
        "label_model": test_scores[selection.name],
    }
