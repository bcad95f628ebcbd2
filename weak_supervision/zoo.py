"""A zoo of label models, one chosen by cross-validation on the human labels.

Candidates (``CANDIDATES``, in order of preference on equal scores):

``label_model``           Snorkel's label model (Ratner et al. 2019), uniform prior.
``label_model_balanced``  the same with the class balance of the human labels.
``majority_vote``         Snorkel's/WRENCH's majority vote.
``majority_vote_prior``   majority vote; rows every LF abstains on get the labels' class balance.
``weighted_majority``     votes weighted by each LF's accuracy on the human labels.
``dawid_skene``           Dawid-Skene EM with the LFs as annotators (abstain = no answer).
``flyingsquid``           FlyingSquid's triplet method (Fu et al. 2020).
``semi_supervised``       class-conditional LF answer rates (abstain included) fixed by the
                          labeled items, EM over the rest (``VoteDawidSkene`` with labels).
``naive_bayes_labeled``   the same rates from the labeled items alone (no EM).

The choice follows the WRENCH protocol (the valid split's labels may tune and select): with at
least ``min_labels`` human labels, every candidate is scored on out-of-fold predictions of a
stratified k-fold over the labeled rows (candidates that use labels are refitted without the
held-out fold; the others never see a label), pooled over folds, averaged over ``n_repeats``.
The best score wins; ties keep the earlier candidate. With fewer labels: Snorkel's model with a
uniform prior (majority vote for fewer than 3 LFs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from weak_supervision.label_model import class_balance_from_labels
from weak_supervision.majority import check_votes, majority_vote_proba, probs_to_preds
from weak_supervision.metrics import score
from weak_supervision.vote_models import check_labels

CANDIDATES = (
    "label_model",
    "label_model_balanced",
    "majority_vote",
    "majority_vote_prior",
    "weighted_majority",
    "dawid_skene",
    "flyingsquid",
    "semi_supervised",
    "naive_bayes_labeled",
)
# candidates whose fit reads human labels (refitted per fold); the rest are fitted once
USES_LABELS = frozenset(
    {
        "label_model_balanced",
        "majority_vote_prior",
        "weighted_majority",
        "flyingsquid",
        "semi_supervised",
        "naive_bayes_labeled",
    }
)
Predictor = Callable[[np.ndarray], np.ndarray]


class _Fixed:
    """A predictor with the ``fit``/``predict_proba`` shape of the other models."""

    def __init__(self, fn: Callable[[np.ndarray], np.ndarray]) -> None:
        self.predict_proba = fn


def fit_candidate(
    name: str,
    L: np.ndarray,
    y: np.ndarray,
    n_classes: int,
    cache: dict[str, Any] | None = None,
    **snorkel_kwargs: Any,
) -> Predictor | None:
    """Fit candidate ``name`` on votes ``L`` (and labels ``y``, -1 = none, if it uses them);
    its ``predict_proba``, or None when it cannot be fitted here (e.g. Snorkel with < 3 LFs).
    ``cache`` keeps label-free parts between fits on the same ``L`` (cross-validation)."""
    from weak_supervision.flyingsquid import FlyingSquid
    from weak_supervision.label_model import LabelModel
    from weak_supervision.vote_models import VoteDawidSkene, WeightedMajorityVote

    k = n_classes
    labels = y[y >= 0]
    balance = class_balance_from_labels(labels, k, min_labels=1) if len(labels) else None
    if name == "label_model":
        if L.shape[1] < 3:
            return None
        return LabelModel(k, **snorkel_kwargs).fit(L).predict_proba
    if name == "label_model_balanced":
        if L.shape[1] < 3 or balance is None:
            return None
        return LabelModel(k, class_balance=balance, **snorkel_kwargs).fit(L).predict_proba
    if name == "majority_vote":
        return lambda V: majority_vote_proba(V, k)
    if name == "majority_vote_prior":
        return None if balance is None else (lambda V: majority_vote_proba(V, k, balance))
    if name == "weighted_majority":
        return WeightedMajorityVote(k).fit(L, y).predict_proba
    if name == "dawid_skene":
        return VoteDawidSkene(k, abstain_outcome=False).fit(L).predict_proba
    if name == "flyingsquid":
        if cache is not None:  # the triplet accuracies do not depend on the labels
            if "flyingsquid" not in cache:
                cache["flyingsquid"] = FlyingSquid(k).fit(L)
            return cache["flyingsquid"].with_prior(y).predict_proba
        return FlyingSquid(k).fit(L, y).predict_proba
    if name == "semi_supervised":
        return VoteDawidSkene(k, abstain_outcome=True).fit(L, y).predict_proba
    if name == "naive_bayes_labeled":
        if not len(labels):
            return None
        return VoteDawidSkene(k, abstain_outcome=True, max_iter=0).fit(L, y).predict_proba
    raise ValueError(f"unknown label model {name!r}; choose from {', '.join(CANDIDATES)}")


@dataclass
class LabelModelSelection:
    """The chosen label model (``name``), each candidate's cross-validated scores on the human
    labels (``scores``; empty when too few labels), and predictors for any vote matrix with the
    same LFs. Candidates other than the chosen one are fitted on first use."""

    name: str
    n_classes: int
    class_balance: np.ndarray | None
    metric: str
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    n_labeled: int = 0
    reason: str = ""
    _L: np.ndarray | None = field(default=None, repr=False)
    _y: np.ndarray | None = field(default=None, repr=False)
    _kwargs: dict[str, Any] = field(default_factory=dict, repr=False)
    _fitted: dict[str, Predictor | None] = field(default_factory=dict, repr=False)

    @property
    def candidates(self) -> list[str]:
        return list(self.scores) or [self.name]

    def predictor(self, name: str | None = None) -> Predictor:
        """``predict_proba`` of candidate ``name`` (the chosen one by default), fitted on all
        the votes and all the human labels."""
        name = name or self.name
        if name not in self._fitted:
            self._fitted[name] = fit_candidate(
                name, self._L, self._y, self.n_classes, **self._kwargs
            )
        fitted = self._fitted[name]
        if fitted is None:
            raise ValueError(f"label model {name!r} cannot be fitted on these votes and labels")
        return fitted

    def predict_proba(self, L: np.ndarray, name: str | None = None) -> np.ndarray:
        return self.predictor(name)(check_votes(L, self.n_classes))

    def predict(self, L: np.ndarray, name: str | None = None) -> np.ndarray:
        """Hard labels (Snorkel's deterministic tie-break)."""
        return probs_to_preds(self.predict_proba(L, name))


def _folds(y: np.ndarray, n_folds: int, seed: int) -> list[np.ndarray]:
    """Test-fold positions (into ``y``), stratified when every class has ``n_folds`` rows."""
    from sklearn.model_selection import KFold, StratifiedKFold

    counts = np.bincount(y)
    counts = counts[counts > 0]
    splitter = (
        StratifiedKFold(n_folds, shuffle=True, random_state=seed)
        if counts.min() >= n_folds
        else KFold(n_folds, shuffle=True, random_state=seed)
    )
    return [test for _, test in splitter.split(np.zeros(len(y)), y)]


def fast_score(y: np.ndarray, pred: np.ndarray, n_classes: int, metric: str) -> float:
    """``metrics.score``'s accuracy or F1 (percent, unrounded) without scikit-learn's overhead,
    for bootstrap resamples."""
    if metric == "accuracy":
        return 100.0 * float((y == pred).mean())
    tp = np.bincount(y[y == pred], minlength=n_classes).astype(float)
    true = np.bincount(y, minlength=n_classes)
    predicted = np.bincount(pred[pred >= 0], minlength=n_classes)
    denominator = true + predicted
    f1 = np.divide(2 * tp, denominator, out=np.zeros(n_classes), where=denominator > 0)
    return 100.0 * float(f1[1] if n_classes == 2 else f1.mean())


def one_standard_error_choice(
    best: str,
    order: list[str],
    oof: dict[str, list[np.ndarray]],
    y: np.ndarray,
    n_classes: int,
    metric: str,
    n_boot: int = 200,
    seed: int = 0,
) -> str:
    """The first candidate in ``order`` whose cross-validated score is within one bootstrap
    standard error of ``best``'s (the one-standard-error rule): a candidate later in the order
    must beat the earlier ones by more than the noise of the labels to be chosen."""

    def mean_score(name: str, idx: np.ndarray) -> float:
        return float(np.mean([fast_score(y[idx], p[idx], n_classes, metric) for p in oof[name]]))

    rng = np.random.default_rng(seed)
    boots = [rng.integers(0, len(y), len(y)) for _ in range(n_boot)]
    everything = np.arange(len(y))
    top = mean_score(best, everything)
    best_boot = np.array([mean_score(best, idx) for idx in boots])
    for name in order:
        if name == best:
            return best
        gap = top - mean_score(name, everything)
        spread = float(np.std(best_boot - np.array([mean_score(name, idx) for idx in boots])))
        if gap <= spread:
            return name
    return best


def _out_of_fold(L, y, labeled, candidates, fitted_once, n_classes, cv, snorkel_kwargs):
    """Out-of-fold predictions of every candidate on the labeled rows, per repeat of the
    ``cv = (n_folds, n_repeats, seed)`` folds; candidates that cannot fit drop out."""
    n_folds, n_repeats, cv_seed = cv
    cache: dict[str, Any] = {}
    oof: dict[str, list[np.ndarray]] = {}
    usable = set(candidates)
    for repeat in range(n_repeats):
        preds = {name: np.full(len(labeled), -1) for name in candidates}
        for test in _folds(y[labeled], n_folds, cv_seed + repeat):
            rows = labeled[test]
            y_train = y.copy()
            y_train[rows] = -1
            for name in candidates:
                if name not in usable:
                    continue
                fitted = (
                    fit_candidate(name, L, y_train, n_classes, cache, **snorkel_kwargs)
                    if name in USES_LABELS
                    else fitted_once[name]
                )
                if fitted is None:
                    usable.discard(name)
                    continue
                preds[name][test] = probs_to_preds(fitted(L[rows]))
        for name in usable:
            oof.setdefault(name, []).append(preds[name])
    return oof, usable


def _check_candidates(candidates: Iterable[str], metric: str) -> list[str]:
    if metric not in ("f1", "accuracy"):
        raise ValueError(f"metric must be 'f1' or 'accuracy', got {metric!r}")
    candidates = list(candidates)
    unknown = sorted(set(candidates) - set(CANDIDATES))
    if unknown or not candidates:
        raise ValueError(f"unknown label model(s) {unknown}; choose from {', '.join(CANDIDATES)}")
    return candidates


def select_label_model(
    L: np.ndarray,
    human_labels: np.ndarray | None,
    n_classes: int,
    metric: str = "f1",
    candidates: Iterable[str] = CANDIDATES,
    n_folds: int = 5,
    n_repeats: int = 2,
    min_labels: int | None = None,
    cv_seed: int = 0,
    **snorkel_kwargs: Any,
) -> LabelModelSelection:
    """Choose a label model for votes ``L`` by cross-validation on ``human_labels`` (one per
    row of ``L``, -1 = unlabeled). ``metric``: "f1" (class 1 for two classes, macro otherwise)
    or "accuracy"; ``cv_seed`` seeds the folds. ``snorkel_kwargs`` go to Snorkel's fit (epochs,
    lr, seed)."""
    L = check_votes(L, n_classes)
    if len(L) == 0:
        raise ValueError("cannot fit a label model on zero items")
    y = check_labels(human_labels, len(L), n_classes)
    candidates = _check_candidates(candidates, metric)
    labeled = np.flatnonzero(y >= 0)
    balance = class_balance_from_labels(y, n_classes, min_labels)
    selection = LabelModelSelection(
        name="",
        n_classes=n_classes,
        class_balance=balance,
        metric=metric,
        n_labeled=len(labeled),
        _L=L,
        _y=y,
        _kwargs=snorkel_kwargs,
    )
    if balance is None or len(labeled) < n_folds:
        default = "label_model" if L.shape[1] >= 3 else "majority_vote"
        selection.name = default if default in candidates else candidates[0]
        selection.reason = (
            f"{len(labeled)} human labels: too few to choose by, so the default {selection.name}"
        )
        return selection
    fitted_once = {
        name: fit_candidate(name, L, np.full(len(L), -1), n_classes, **snorkel_kwargs)
        for name in candidates
        if name not in USES_LABELS
    }
    oof, usable = _out_of_fold(
        L,
        y,
        labeled,
        candidates,
        fitted_once,
        n_classes,
        (n_folds, n_repeats, cv_seed),
        snorkel_kwargs,
    )
    y_lab = y[labeled]
    for name in candidates:
        if name in usable:
            runs = [score(y_lab, p, n_classes) for p in oof[name]]
            selection.scores[name] = {
                key: round(float(np.mean([r[key] for r in runs])), 2) for key in runs[0]
            }
    order = list(selection.scores)
    best = max(order, key=lambda c: (selection.scores[c][metric], -order.index(c)))
    selection.name = one_standard_error_choice(
        best, order, oof, y_lab, n_classes, metric, seed=cv_seed
    )
    selection.reason = (
        f"{metric} in {n_folds}-fold cross-validation over {len(labeled)} human labels"
        + (f" ({n_repeats} repeats)" if n_repeats > 1 else "")
        + (
            f": the first candidate within one standard error of the best ({best})"
            if selection.name != best
            else ": the best"
        )
    )
    for name, fitted in fitted_once.items():
        selection._fitted[name] = fitted
    return selection
