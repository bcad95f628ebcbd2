"""The default label-model pipeline: fit candidate aggregators, keep the one human labels prefer.

Candidates: Snorkel's label model (uniform prior, and with the class balance of the human
labels), majority vote (Snorkel's tie-break, and with the class prior for rows every LF abstains
on). With enough human labels (``class_balance_from_labels``) the candidate scoring best on them
wins (F1 by default: class 1 for two classes, macro otherwise; ties keep the earlier candidate);
without, the label model with a uniform prior is used. Snorkel's model alone can lose badly to
majority vote (WRENCH sms F1 7.06 vs 23.97); choosing on human labels guards against that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from weak_supervision.label_model import LabelModel, class_balance_from_labels
from weak_supervision.majority import check_votes, majority_vote_proba, probs_to_preds
from weak_supervision.metrics import score

CANDIDATES = ("label_model", "label_model_balanced", "majority_vote", "majority_vote_prior")


@dataclass
class LabelModelChoice:
    """The chosen aggregator (``name``), every candidate's scores on the human labels, and
    ``predict_proba`` / ``predict`` for any vote matrix with the same LFs."""

    name: str
    n_classes: int
    class_balance: np.ndarray | None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    predictors: dict[str, Callable[[np.ndarray], np.ndarray]] = field(default_factory=dict)

    def predict_proba(self, L: np.ndarray, name: str | None = None) -> np.ndarray:
        return self.predictors[name or self.name](check_votes(L, self.n_classes))

    def predict(self, L: np.ndarray, name: str | None = None) -> np.ndarray:
        """Hard labels (Snorkel's deterministic tie-break)."""
        return probs_to_preds(self.predict_proba(L, name))


def choose_label_model(
    L: np.ndarray,
    n_classes: int,
    L_dev: np.ndarray | None = None,
    y_dev: np.ndarray | None = None,
    metric: str = "f1",
    **train_kwargs: Any,
) -> LabelModelChoice:
    """Fit the candidates on ``L`` (no labels used) and choose among them with the human labels
    ``y_dev`` of the items whose votes are ``L_dev`` (rows with ``y_dev == -1`` are ignored)."""
    L = check_votes(L, n_classes)
    if metric not in ("f1", "accuracy"):
        raise ValueError(f"metric must be 'f1' or 'accuracy', got {metric!r}")
    balance = None
    if y_dev is not None:
        if L_dev is None:
            raise ValueError("y_dev needs L_dev: the votes on the human-labeled items")
        L_dev, y_dev = check_votes(L_dev, n_classes), np.asarray(y_dev)
        if len(L_dev) != len(y_dev) or L_dev.shape[1] != L.shape[1]:
            raise ValueError(
                f"L_dev {L_dev.shape} must have one row per y_dev ({len(y_dev)}) and "
                f"{L.shape[1]} LF columns"
            )
        keep = y_dev >= 0
        L_dev, y_dev = L_dev[keep], y_dev[keep]
        balance = class_balance_from_labels(y_dev, n_classes)
    predictors: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "majority_vote": lambda V: majority_vote_proba(V, n_classes),
    }
    if L.shape[1] >= 3 and len(L):
        predictors["label_model"] = LabelModel(n_classes, **train_kwargs).fit(L).predict_proba
    if balance is not None:
        if "label_model" in predictors:
            predictors["label_model_balanced"] = (
                LabelModel(n_classes, class_balance=balance, **train_kwargs).fit(L).predict_proba
            )
        predictors["majority_vote_prior"] = lambda V: majority_vote_proba(V, n_classes, balance)
    order = [c for c in CANDIDATES if c in predictors]
    choice = LabelModelChoice(order[0], n_classes, balance, predictors=predictors)
    if balance is None:  # too few human labels to choose by
        return choice
    for name in order:
        choice.scores[name] = score(y_dev, probs_to_preds(predictors[name](L_dev)), n_classes)
    choice.name = max(order, key=lambda c: (choice.scores[c][metric], -order.index(c)))
    return choice


def fit_label_model(
    L: np.ndarray,
    n_classes: int,
    human_labels: np.ndarray | None = None,
    metric: str = "f1",
    **train_kwargs: Any,
) -> np.ndarray:
    """Probabilistic labels ``(n, n_classes)`` for the rows of ``L`` from the default pipeline;
    ``human_labels`` (one per row, -1 = unlabeled) choose the aggregator and the class balance."""
    L = check_votes(L, n_classes)
    if human_labels is not None and len(human_labels) != len(L):
        raise ValueError(f"human_labels has {len(human_labels)} entries for {len(L)} rows")
    choice = choose_label_model(
        L,
        n_classes,
        L_dev=None if human_labels is None else L,
        y_dev=human_labels,
        metric=metric,
        **train_kwargs,
    )
    return choice.predict_proba(L)
