"""FlyingSquid's triplet method (Fu et al., "Fast and Three-rious: Speeding Up Weak Supervision
with Triplet Methods", ICML 2020), written here because the PyPI package (0.0.0a0, 2020) imports
``pgmpy.models.MarkovModel``, which current pgmpy no longer has.

Binary model, ``Y`` and votes in {-1, +1} (0 = abstain, assumed independent of ``Y``). For LFs
conditionally independent given ``Y`` whose errors are symmetric, ``E[l_i l_j] = a_i a_j`` with
``a_i = E[l_i Y]`` (moments over the rows both LFs vote on), so for any triplet ``i, j, k``::

    |a_i| = sqrt(|E[l_i l_j]| |E[l_i l_k]| / |E[l_j l_k]|)      (the paper's eq. 4)

``|a_i|`` is the mean over the valid triplets (``triplet_mean``); its sign is taken positive
(each LF better than random, the paper's assumption). ``P(l_i = Y | l_i != 0) = (1 + a_i) / 2``,
and the posterior of ``Y`` is the product of those accuracies with the class balance. More than
two classes: one binary model per class (that class against the rest), posteriors normalised.
"""

from __future__ import annotations

import numpy as np

from weak_supervision.majority import check_votes


def triplet_accuracies(
    V: np.ndarray, min_overlap: int = 5, eps: float = 1e-3
) -> tuple[np.ndarray, np.ndarray]:
    """``(|a|, n_triplets)`` per LF from votes ``V`` in {-1, 0, +1}; LFs without a valid
    triplet get ``a = 0`` (no information)."""
    V = np.asarray(V, dtype=np.float64)
    F = (V != 0).astype(np.float64)
    both = F.T @ F
    moments = np.divide(V.T @ V, both, out=np.zeros_like(both), where=both >= min_overlap)
    m = V.shape[1]
    ok = (both >= min_overlap) & (np.abs(moments) > eps)
    np.fill_diagonal(ok, False)
    a = np.zeros(m)
    n_triplets = np.zeros(m, dtype=np.int64)
    for i in range(m):
        partners = np.flatnonzero(ok[i])
        if len(partners) < 2:
            continue
        Mjk = moments[np.ix_(partners, partners)]
        valid = ok[np.ix_(partners, partners)] & np.triu(np.ones_like(Mjk, dtype=bool), 1)
        if not valid.any():
            continue
        mi = np.abs(moments[i, partners])
        est = np.sqrt(np.outer(mi, mi)[valid] / np.abs(Mjk[valid]))
        a[i] = float(np.clip(est, 0.0, 1.0).mean())
        n_triplets[i] = int(valid.sum())
    return a, n_triplets


def label_prior(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Add-one smoothed class balance of the labels ``y >= 0``; uniform without labels."""
    labeled = y[y >= 0]
    return (np.bincount(labeled, minlength=n_classes) + 1.0) / (len(labeled) + n_classes)


class FlyingSquid:
    """Triplet-method label model; ``class_balance`` (or the human labels' balance, given to
    ``fit``) is the prior, uniform otherwise."""

    def __init__(self, n_classes: int, min_overlap: int = 5, max_accuracy: float = 0.99) -> None:
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.n_classes = n_classes
        self.min_overlap = min_overlap
        self.max_accuracy = max_accuracy

    def _binary_votes(self, L: np.ndarray, c: int) -> np.ndarray:
        return np.where(L < 0, 0, np.where(np.equal(L, c), 1, -1))

    def fit(self, L: np.ndarray, y: np.ndarray | None = None) -> FlyingSquid:
        from weak_supervision.vote_models import check_labels

        k = self.n_classes
        L = check_votes(L, k)
        self.prior_ = label_prior(check_labels(y, len(L), k), k)
        problems = [1] if k == 2 else list(range(k))  # k = 2: class 1 against class 0
        self.accuracy_ = np.empty((len(problems), L.shape[1]))
        for row, c in enumerate(problems):
            a, _ = triplet_accuracies(self._binary_votes(L, c), self.min_overlap)
            self.accuracy_[row] = np.clip((1 + a) / 2, 1 - self.max_accuracy, self.max_accuracy)
        self.m = L.shape[1]
        return self

    def with_prior(self, y: np.ndarray | None) -> FlyingSquid:
        """A copy with the same LF accuracies and the class balance of labels ``y`` (-1 =
        none). The accuracies never read labels, so cross-validation need not re-estimate them."""
        import copy

        out = copy.copy(self)
        out.prior_ = label_prior(np.full(0, -1) if y is None else np.asarray(y), self.n_classes)
        return out

    def _binary_log_odds(self, L: np.ndarray, row: int, c: int, prior_c: float) -> np.ndarray:
        """log P(Y = c | votes) - log P(Y != c | votes) for the binary problem ``row``."""
        V = self._binary_votes(L, c).astype(np.float64)
        w = np.log(self.accuracy_[row] / (1 - self.accuracy_[row]))
        return V @ w + np.log(prior_c / (1 - prior_c))

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        if not hasattr(self, "accuracy_"):
            raise ValueError("FlyingSquid is not fitted: call fit(L) first")
        L = check_votes(L, self.n_classes)
        if L.shape[1] != self.m:
            raise ValueError(f"fitted on {self.m} LFs, got votes of {L.shape[1]}")
        if self.n_classes == 2:
            p1 = 1 / (1 + np.exp(-self._binary_log_odds(L, 0, 1, self.prior_[1])))
            return np.column_stack([1 - p1, p1])
        scores = np.column_stack(
            [
                1 / (1 + np.exp(-self._binary_log_odds(L, c, c, self.prior_[c])))
                for c in range(self.n_classes)
            ]
        )
        return scores / scores.sum(axis=1, keepdims=True)
