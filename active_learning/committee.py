"""Query-by-committee: vote entropy and KL disagreement of a committee of classifiers.

Measure ``"kl_mean"`` scores an item by the *mean* KL divergence of the members from their
consensus (McCallum & Nigam 1998); modAL's ``KL_max_disagreement`` takes the *largest* one
(measure ``"kl"``), what the former ``committee_kl`` strategy used (the mean was tried too).
Neither has a computational error (direction KL(member || consensus), consensus = mean of the
members' probabilities, both checked by hand in the tests); the max was worse than random on TF-IDF
because KL disagreement grows with how *confident* the members are: an item every member is unsure
about (near-uniform probabilities, words no label has shown) scores 0, and one bootstrap member sure
of a rare word dominates the max. On AG News TF-IDF with 300 labels the max-KL score was
anti-correlated with uncertainty (Spearman -0.29 against the consensus margin). The mean is steadier
but still lost to random at 100 and 300 labels on all three benchmark data sets (sentence
embeddings, benchmarks/RESULTS.md), so the ``committee_kl`` strategy was dropped; both KL measures
stay available as ``measure=`` of the ``committee`` strategy (vote entropy, its default, beats
random at 1,500 labels).

A committee is either our :class:`Committee` (built by :func:`fit_committee`, stratified
bagging) or any sequence of fitted classifiers. If the model passed to the strategy is a single
classifier, a committee of ``n_members`` bagged copies is fitted on ``X_labeled, y_labeled``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import rel_entr
from scipy.stats import entropy
from sklearn.base import clone

from active_learning._validation import check_fitted_classifier, check_pool
from active_learning.base import Query, QueryStrategy, as_random_state, prepare, top_query

MEASURES = ("vote_entropy", "kl", "kl_mean")


class Committee:
    """Fitted classifiers that vote; ``predict_proba`` is their consensus (mean) probability."""

    def __init__(self, members: Sequence[Any]) -> None:
        if len(members) < 2:
            raise ValueError(f"A committee needs at least 2 members; got {len(members)}.")
        for m in members:
            check_fitted_classifier(m, "Committee")
        self.members = list(members)
        self.classes_ = np.unique(np.concatenate([np.asarray(m.classes_) for m in members]))

    def __len__(self) -> int:
        return len(self.members)

    def member_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of every member, aligned to ``classes_``:
        (members, items, classes)."""
        out = np.zeros((len(self.members), X.shape[0], self.classes_.shape[0]))
        for k, m in enumerate(self.members):
            cols = np.searchsorted(self.classes_, np.asarray(m.classes_))
            out[k][:, cols] = m.predict_proba(X)
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.member_proba(X).mean(axis=0)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def fit_committee(
    estimator: Any, X: Any, y: Any, n_members: int = 5, random_state: Any = None
) -> Committee:
    """Fit ``n_members`` clones of ``estimator`` on stratified bootstrap samples of ``(X, y)``.

    Hand-written rather than sklearn's ``BaggingClassifier`` because its plain bootstrap can draw
    a one-class sample when only a few labels exist, and then e.g. LogisticRegression fails to
    fit; resampling within each class keeps every class in every member.
    """
    y = np.asarray(y)
    if n_members < 2:
        raise ValueError(f"n_members must be at least 2; got {n_members}.")
    if np.unique(y).shape[0] < 2:
        raise ValueError("A committee needs labels of at least 2 classes; label more items first.")
    rng = as_random_state(random_state)
    by_class = [np.flatnonzero(y == c) for c in np.unique(y)]
    members = []
    for _ in range(n_members):
        sample = np.concatenate([rng.choice(ix, size=ix.shape[0], replace=True) for ix in by_class])
        members.append(clone(estimator).fit(X[sample], y[sample]))
    return Committee(members)


def vote_entropy(member_proba: np.ndarray) -> np.ndarray:
    """Entropy of the members' hard votes per item (as modAL's ``vote_entropy``), vectorized.

    modAL counts votes row by row in Python (slow on large pools); this counts them with numpy.
    """
    n_members, n_items, n_classes = member_proba.shape
    votes = member_proba.argmax(axis=2)
    counts = np.zeros((n_items, n_classes))
    for k in range(n_members):
        counts[np.arange(n_items), votes[k]] += 1
    return entropy(counts / n_members, axis=1)


def kl_max_disagreement(member_proba: np.ndarray) -> np.ndarray:
    """Largest KL divergence of a member from the consensus (as modAL's ``KL_max_disagreement``)."""
    consensus = member_proba.mean(axis=0)
    return rel_entr(member_proba, consensus[None]).sum(axis=2).max(axis=0)


def kl_mean_disagreement(member_proba: np.ndarray) -> np.ndarray:
    """Mean KL divergence of the members from the consensus (McCallum & Nigam 1998), which
    equals the entropy of the consensus minus the members' mean entropy."""
    consensus = member_proba.mean(axis=0)
    return rel_entr(member_proba, consensus[None]).sum(axis=2).mean(axis=0)


def _as_committee(
    model: Any, X_labeled: Any, y_labeled: Any, n_members: int, random_state: Any
) -> Committee:
    if isinstance(model, Committee):
        return model
    if isinstance(model, list | tuple):
        return Committee(model)
    if X_labeled is None or y_labeled is None:
        raise ValueError(
            "committee: pass a Committee (see fit_committee) or a list of fitted classifiers, "
            "or give X_labeled and y_labeled so a bagged committee can be fitted."
        )
    return fit_committee(model, X_labeled, y_labeled, n_members, random_state)


# Vote entropy takes few distinct values (7 for 5 members), so many items tie; ties are broken by
# the KL disagreement, scaled so that it stays far below the smallest gap between two distinct vote
# entropies of a committee of up to ~50 members. Identical members still score exactly 0.
_TIE_WEIGHT = 1e-6


def committee_scores(
    model: Any,
    X_pool: Any,
    *,
    measure: str = "vote_entropy",
    n_members: int = 5,
    X_labeled: Any = None,
    y_labeled: Any = None,
    random_state: Any = None,
    **_: Any,
) -> np.ndarray:
    """Disagreement of the committee on each pool item (0 when every member agrees exactly)."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}; got {measure!r}.")
    X = check_pool(X_pool)
    committee = _as_committee(model, X_labeled, y_labeled, n_members, random_state)
    P = committee.member_proba(X)
    if measure == "kl_mean":
        return kl_mean_disagreement(P)
    kl = kl_max_disagreement(P)
    if measure == "kl":
        return kl
    return vote_entropy(P) + _TIE_WEIGHT * kl / np.log(P.shape[0])


def committee_query(model: Any, X_pool: Any, n: int, **state: Any) -> Query:
    """The ``n`` items the committee disagrees on most (``measure``: vote_entropy or kl)."""
    X, n = prepare(X_pool, n)
    return top_query(committee_scores(model, X, **state), n)


COMMITTEE = QueryStrategy(
    "committee",
    committee_query,
    committee_scores,
    False,
    "vote entropy of a bagged committee of 5 classifiers (ties broken by KL disagreement)",
)
