"""Label models on LF votes besides Snorkel's: Dawid-Skene EM, its semi-supervised form, and an
accuracy-weighted majority vote.

Every model has ``fit(L, y=None)`` (``y``: human labels per row, -1 = none) and
``predict_proba(L)``. Votes are ``(n, m)`` ints, -1 = abstain.

``VoteDawidSkene`` is Dawid & Skene's (1979) EM with the LFs as annotators. With
``abstain_outcome=False`` an abstain is a missing answer (WRENCH's DS): an LF that only ever votes
one class then carries no information. With ``abstain_outcome=True`` the abstain is one more
answer, so ``P(LF j fires with l | y)`` is learned (a naive Bayes model fitted by EM), which is
what one-sided keyword LFs need. Labeled rows keep their class fixed (they anchor the
class-conditional LF accuracies) and EM runs over the others: the semi-supervised model.
``max_iter=0`` fits on the labeled rows only. Rows are collapsed to distinct vote patterns, so a
fit costs O(patterns x votes), not O(n).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.special import logsumexp, softmax

from weak_supervision.label_model import distinct_patterns
from weak_supervision.majority import check_votes, majority_vote_proba, vote_counts


def check_labels(y: np.ndarray | None, n: int, n_classes: int) -> np.ndarray:
    """Human labels as an int array of length ``n`` (-1 = none), validated."""
    if y is None:
        return np.full(n, -1, dtype=np.int64)
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"human labels must have one entry per row of L ({n}), got {y.shape}")
    if y.size and (y.min() < -1 or y.max() >= n_classes):
        raise ValueError(f"human labels must be -1 (none) or 0..{n_classes - 1}")
    return y.astype(np.int64)


def vote_one_hot(L: np.ndarray, n_classes: int) -> sp.csr_matrix:
    """Sparse ``(n, m * k)`` indicator of "LF j voted l" (column ``j * k + l``)."""
    from weak_supervision.label_model import one_hot

    return one_hot(np.ascontiguousarray(L), n_classes)


class VoteDawidSkene:
    """Dawid-Skene EM over LF votes; optional fixed (human-labeled) rows and abstain outcome.

    ``smoothing`` is a pseudo-count: with ``abstain_outcome`` it pulls each
    ``P(answer | y)`` towards the LF's overall answer frequencies, else towards uniform.
    """

    def __init__(
        self,
        n_classes: int,
        abstain_outcome: bool = False,
        smoothing: float = 1.0,
        max_iter: int = 100,
        tol: float = 1e-6,
    ) -> None:
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        if smoothing < 0 or max_iter < 0:
            raise ValueError("smoothing and max_iter must be >= 0")
        self.n_classes = n_classes
        self.abstain_outcome = abstain_outcome
        self.smoothing = smoothing
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, L: np.ndarray, y: np.ndarray | None = None) -> VoteDawidSkene:
        k = self.n_classes
        L = check_votes(L, k)
        y = check_labels(y, len(L), k)
        if len(L) == 0:
            raise ValueError("cannot fit a label model on zero items")
        labeled = y >= 0
        patterns, _, counts = distinct_patterns(L[~labeled])
        rows = np.vstack([patterns, L[labeled]]) if labeled.any() else patterns
        weights = np.concatenate([counts, np.ones(labeled.sum())]).astype(np.float64)
        n_free = len(patterns)
        V = vote_one_hot(rows, k)
        Vt = V.T.tocsr()
        self.m = L.shape[1]
        fires = (L >= 0).sum(axis=0)
        # each LF's answer frequencies over all rows: the smoothing target with abstain_outcome
        voted = np.asarray(vote_one_hot(L, k).sum(axis=0)).reshape(self.m, k)
        self._freq = np.concatenate([voted, (len(L) - fires)[:, None]], axis=1) / len(L)
        known = np.eye(k)[y[labeled]]
        if self.max_iter == 0 or n_free == 0:
            post = known
            if not labeled.any():
                raise ValueError("max_iter=0 fits on labeled rows only: give human labels")
            self._m_step(post, Vt[:, n_free:], weights[n_free:])
            self.n_iter_ = 0
            return self
        post = np.vstack([majority_vote_proba(patterns, k), known])
        previous = -np.inf
        for it in range(1, self.max_iter + 1):  # noqa: B007 - reported after the loop
            self._m_step(post, Vt, weights)
            joint = self._log_joint(V)
            post = softmax(joint, axis=1)
            post[n_free:] = known
            ll = float((weights[:n_free] * logsumexp(joint[:n_free], axis=1)).sum())
            ll += float((joint[n_free:] * known).sum())
            if ll - previous < self.tol * max(1.0, abs(ll)):
                break
            previous = ll
        self.n_iter_ = it
        return self

    def _m_step(self, post: np.ndarray, Vt: sp.csr_matrix, weights: np.ndarray) -> None:
        k, m, s = self.n_classes, self.m, self.smoothing
        wpost = post * weights[:, None]
        totals = wpost.sum(axis=0)  # expected items per class
        self.prior_ = (totals + 1.0) / (totals.sum() + k)
        expected = np.asarray(Vt @ wpost).reshape(m, k, k)  # [j, answer, class]
        if self.abstain_outcome:
            abstain = totals[None, :] - expected.sum(axis=1)  # [j, class]
            answers = np.concatenate([expected, np.maximum(abstain, 0)[:, None, :]], axis=1)
            answers = answers + s * self._freq[:, :, None]
            probs = answers / answers.sum(axis=1, keepdims=True)
            log_p = np.log(np.maximum(probs, 1e-300))
            self._log_abstain = log_p[:, k, :]  # [j, class]
            # a vote's weight relative to abstaining, so abstains never need to be enumerated
            self._log_vote = (log_p[:, :k, :] - self._log_abstain[:, None, :]).reshape(m * k, k)
        else:
            answers = expected + s
            probs = answers / answers.sum(axis=1, keepdims=True)
            self._log_abstain = np.zeros((m, k))
            self._log_vote = np.log(np.maximum(probs, 1e-300)).reshape(m * k, k)
        self.confusion_ = probs  # [j, answer (+ abstain), class]

    def _log_joint(self, V: sp.csr_matrix) -> np.ndarray:
        base = np.log(self.prior_) + self._log_abstain.sum(axis=0)
        return np.asarray(V @ self._log_vote) + base

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        if not hasattr(self, "prior_"):
            raise ValueError("VoteDawidSkene is not fitted: call fit(L) first")
        L = check_votes(L, self.n_classes)
        if L.shape[1] != self.m:
            raise ValueError(f"fitted on {self.m} LFs, got votes of {L.shape[1]}")
        patterns, inverse, _ = distinct_patterns(L)
        return softmax(self._log_joint(vote_one_hot(patterns, self.n_classes)), axis=1)[inverse]


class WeightedMajorityVote:
    """Each LF's vote weighs ``log(acc (k - 1) / (1 - acc))`` (the naive-Bayes weight of a
    symmetric LF). ``acc`` is the LF's accuracy on the human-labeled rows it votes on, under a
    Beta prior of strength ``prior_strength`` centred on its agreement with the majority vote
    of the other LFs on all rows (so LFs no labeled row covers keep an unsupervised weight)."""

    def __init__(self, n_classes: int, prior_strength: float = 4.0) -> None:
        self.n_classes = n_classes
        self.prior_strength = prior_strength

    def fit(self, L: np.ndarray, y: np.ndarray | None = None) -> WeightedMajorityVote:
        k = self.n_classes
        L = check_votes(L, k)
        y = check_labels(y, len(L), k)
        counts = vote_counts(L, k)
        fires = L >= 0
        agree = np.zeros(L.shape[1])
        for j in range(L.shape[1]):
            rows = fires[:, j]
            if not rows.any():
                continue
            others = counts[rows].copy()
            others[np.arange(rows.sum()), L[rows, j]] -= 1  # leave LF j's own vote out
            has = others.sum(axis=1) > 0
            agree[j] = (others[has].argmax(axis=1) == L[rows, j][has]).mean() if has.any() else 0.5
        agree = np.clip(agree, 0.05, 0.95)
        labeled = (y >= 0)[:, None] & fires
        correct = (labeled & np.equal(L, y[:, None])).sum(axis=0)
        acc = (correct + self.prior_strength * agree) / (labeled.sum(axis=0) + self.prior_strength)
        acc = np.clip(acc, 0.01, 0.99)
        self.accuracy_ = acc
        self.weights_ = np.log(acc * (k - 1) / (1 - acc))
        self.m = L.shape[1]
        return self

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        L = check_votes(L, self.n_classes)
        V = vote_one_hot(L, self.n_classes)
        W = np.zeros((self.m * self.n_classes, self.n_classes))
        for j, w in enumerate(self.weights_):
            W[j * self.n_classes : (j + 1) * self.n_classes] = w * np.eye(self.n_classes)
        return softmax(np.asarray(V @ W), axis=1)
