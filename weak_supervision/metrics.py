"""Scores used to compare label models: accuracy and F1 (class 1 for two classes, else macro)."""

from __future__ import annotations

import numpy as np


def score(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> dict[str, float]:
    """``{"accuracy": .., "f1": ..}`` in percent, rounded to 2 decimals as WRENCH reports."""
    from sklearn.metrics import accuracy_score, f1_score

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must be equal 1-D")
    if n_classes == 2:
        f1 = f1_score(y_true, y_pred, pos_label=1, average="binary", zero_division=0)
    else:
        f1 = f1_score(
            y_true, y_pred, labels=list(range(n_classes)), average="macro", zero_division=0
        )
    return {
        "accuracy": round(100 * float(accuracy_score(y_true, y_pred)), 2),
        "f1": round(100 * float(f1), 2),
    }
