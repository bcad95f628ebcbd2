"""Snorkel's ``LabelModel``, fitted on distinct vote patterns so memory stays small.

Snorkel builds a dense one-hot ``(n, m * k)`` float64 matrix to fit and to predict (2.6-2.9 GB
for 1M items x 50 LFs). Its fit only needs the overlap matrix ``O = A'A / n``, and its
prediction depends on a row's vote pattern only. ``LabelModel`` here collapses the votes to
their distinct patterns with counts, computes ``O`` from a sparse one-hot of those patterns,
lets Snorkel's own optimizer fit ``mu`` on it, and predicts each pattern once (in chunks).
The fitted parameters equal Snorkel's on the full matrix (same ``O``, ``n`` and seed).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import scipy.sparse as sp

from weak_supervision.majority import check_votes

DEFAULTS: dict[str, Any] = {"n_epochs": 500, "lr": 0.01, "seed": 123}


def class_balance_from_labels(
    labels: np.ndarray, n_classes: int, min_labels: int | None = None
) -> np.ndarray | None:
    """P(y) from human labels (-1 = none), add-one smoothed; None if fewer than ``min_labels``
    (default ``max(20, 5 * n_classes)``) items are labeled: too few to trust."""
    labels = np.asarray(labels)
    labels = labels[labels >= 0]
    if len(labels) < (min_labels if min_labels is not None else max(20, 5 * n_classes)):
        return None
    if labels.max() >= n_classes:
        raise ValueError(f"human label {labels.max()} is out of range for {n_classes} classes")
    counts = np.bincount(labels, minlength=n_classes) + 1.0
    return counts / counts.sum()


def distinct_patterns(L: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(patterns, inverse, counts)``: the distinct rows of ``L``, each row's pattern index,
    and how many rows share each pattern."""
    L = np.ascontiguousarray(L)
    if L.shape[0] == 0:
        return L, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows = L.view(np.dtype((np.void, L.dtype.itemsize * L.shape[1]))).ravel()
    _, first, inverse, counts = np.unique(
        rows, return_index=True, return_inverse=True, return_counts=True
    )
    return L[first], inverse.ravel(), counts


def one_hot(patterns: np.ndarray, n_classes: int) -> sp.csr_matrix:
    """Sparse ``(n, m * k)`` indicator of "LF j voted y" (column ``j * k + y``), Snorkel's
    layout."""
    n, m = patterns.shape
    rows, cols = np.nonzero(patterns >= 0)  # row-major order: rows come sorted
    indices = (cols * n_classes + patterns[rows, cols]).astype(np.int32)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    data = np.ones(len(indices), dtype=np.float64)
    return sp.csr_matrix((data, indices, indptr), shape=(n, m * n_classes))


def overlap_matrix(
    patterns: np.ndarray, weights: np.ndarray, n_classes: int, chunk_size: int = 100_000
) -> np.ndarray:
    """``A' diag(weights) A`` for the one-hot ``A`` of ``patterns``, built chunk by chunk so the
    sparse matrix of all votes never exists at once."""
    d = patterns.shape[1] * n_classes
    out = np.zeros((d, d))
    for start in range(0, len(patterns), chunk_size):
        A = one_hot(patterns[start : start + chunk_size], n_classes)
        w = weights[start : start + chunk_size]
        out += (A.T @ A.multiply(w[:, None]).tocsr()).toarray()
    return out


@cache
def _weighted_snorkel_class() -> type:
    import torch
    from snorkel.labeling.model import LabelModel as SnorkelLabelModel

    class WeightedSnorkelLabelModel(SnorkelLabelModel):
        """Snorkel's model whose ``O`` comes from distinct vote patterns (``self.patterns``,
        -1 = abstain) weighted by how many items share each (``self.weights``)."""

        patterns: np.ndarray
        weights: np.ndarray

        def _generate_O(self, L: np.ndarray, higher_order: bool = False) -> None:
            self.n = 0  # Snorkel's bookkeeping (clique data) on an empty matrix
            self._get_augmented_label_matrix(L[:0], higher_order=higher_order)
            overlaps = overlap_matrix(self.patterns, self.weights, self.cardinality)
            self.n = int(self.weights.sum())
            self.d = overlaps.shape[0]
            self.O = torch.from_numpy(overlaps / self.n).float().to(self.config.device)
            self._fast = None

        def _create_tree(self) -> None:
            # Snorkel's clique tree of m independent LFs: the same graph for every fit with m
            # LFs (Snorkel only reads it), built once instead of ~0.2 s per fit at 164 LFs.
            self.c_tree = _clique_tree(self.m)

        def _loss_mu(self, l2: float = 0) -> torch.Tensor:
            """Snorkel's loss, its value and gradient computed in O(nnz(O) k + d k^2) instead of
            on the dense d x d residual (see ``masked_loss``); Snorkel's own loss for per-LF
            ``l2`` or a mask other than Snorkel's one block per LF (dependencies)."""
            if not isinstance(l2, int | float):
                return super()._loss_mu(l2=l2)
            if self._fast is None:
                self._fast = _FastLossData.build(self)
            if not self._fast.usable:
                return super()._loss_mu(l2=l2)
            return _MaskedLoss.apply(self.mu, self._fast, float(l2))

    return WeightedSnorkelLabelModel


@cache
def _clique_tree(m: int) -> Any:
    from snorkel.labeling.model.graph_utils import get_clique_tree

    return get_clique_tree(range(m), [])


class _FastLossData:
    """What the fast loss needs from a Snorkel model: the masked overlaps ``M * O`` (sparse,
    float64), ``||M * O||^2``, ``diag(O)``, ``p = P(y)``, ``mu_init`` and the block size."""

    usable: bool

    @classmethod
    def build(cls, model: Any) -> _FastLossData:
        self = cls()
        overlaps = model.O.detach().cpu().double().numpy()
        k, d = model.cardinality, model.d
        blocks = np.kron(np.eye(d // k, dtype=bool), np.ones((k, k), dtype=bool))
        self.usable = d % k == 0 and np.array_equal(~model.mask.cpu().numpy(), blocks)
        if not self.usable:
            return self
        self.k = k
        masked = np.where(blocks, 0.0, overlaps)
        self.O_masked = sp.csr_matrix(masked)
        self.O_masked_sq = float((masked**2).sum())
        self.diag_O = np.diag(overlaps).copy()
        self.p = model.P.detach().cpu().double().numpy().diagonal().copy()
        self.mu_init = model.mu_init.detach().cpu().double().numpy()
        return self


def masked_loss(mu: np.ndarray, data: _FastLossData, l2: float = 0.0) -> tuple[float, np.ndarray]:
    """Snorkel's ``_loss_mu`` and its gradient for one block of ``k`` rows per LF.

    ``||M*(O - A)||^2`` with ``A = mu P mu'`` expands to ``||M*O||^2 - 2<M*O, A> + ||A||^2 -
    sum_j ||A_jj||^2``; ``||A||^2 = tr((P G)^2)`` with ``G = mu' mu`` (k x k) and ``A_jj =
    mu_j P mu_j'``, so the d x d residual is never formed. Gradient: ``-4 (M*(O - A)) mu P``.
    """
    k, p = data.k, data.p
    mu_p = mu * p  # mu P
    O_mu = np.asarray(data.O_masked @ mu)
    G = mu.T @ mu
    blocks = mu.reshape(-1, k, k)  # mu_j: LF j's k x k block
    A_jj = (blocks * p) @ blocks.transpose(0, 2, 1)
    loss_1 = (
        data.O_masked_sq
        - 2.0 * float((O_mu * mu_p).sum())
        + float(((p[:, None] * G) * (p[:, None] * G).T).sum())
        - float((A_jj**2).sum())
    )
    residual_mu = O_mu - mu_p @ G + (A_jj @ blocks).reshape(mu.shape)
    grad = -4.0 * residual_mu * p
    r = mu_p.sum(axis=1) - data.diag_O
    grad += 2.0 * r[:, None] * p[None, :]
    diff = mu - data.mu_init
    loss = loss_1 + float(r @ r) + l2**2 * float((diff**2).sum())
    grad += 2.0 * l2**2 * diff
    return max(loss, 0.0), grad


def _masked_loss_function() -> type:
    import torch

    class MaskedLoss(torch.autograd.Function):
        @staticmethod
        def forward(ctx, mu, data, l2):
            loss, grad = masked_loss(mu.detach().cpu().double().numpy(), data, l2)
            ctx.save_for_backward(torch.from_numpy(grad).to(mu.dtype))
            return torch.tensor(loss, dtype=mu.dtype)

        @staticmethod
        def backward(ctx, grad_output):
            (grad,) = ctx.saved_tensors
            return grad_output * grad, None, None

    return MaskedLoss


class _LazyMaskedLoss:
    def apply(self, *args: Any) -> Any:
        return _masked_loss_fn().apply(*args)


_masked_loss_fn = cache(_masked_loss_function)
_MaskedLoss = _LazyMaskedLoss()


class LabelModel:
    """Snorkel's generative label model (Ratner et al. 2019) with compact fit and prediction.

    ``class_balance`` is the prior P(y) (uniform if None); ``train_kwargs`` go to Snorkel's
    ``fit`` (defaults: 500 epochs, lr 0.01, seed 123, as Snorkel's spam tutorial).
    """

    def __init__(
        self,
        n_classes: int,
        class_balance: np.ndarray | None = None,
        chunk_size: int = 100_000,
        **train_kwargs: Any,
    ) -> None:
        if n_classes < 2:
            raise ValueError(f"n_classes must be >= 2, got {n_classes}")
        self.n_classes = n_classes
        self.class_balance = None if class_balance is None else np.asarray(class_balance, float)
        if self.class_balance is not None and (
            self.class_balance.shape != (n_classes,) or np.any(self.class_balance <= 0)
        ):
            raise ValueError(
                f"class_balance must be {n_classes} positive numbers, got {class_balance}"
            )
        self.chunk_size = chunk_size
        self.train_kwargs = {**DEFAULTS, **train_kwargs}
        self._model = None

    def fit(self, L: np.ndarray) -> LabelModel:
        L = check_votes(L, self.n_classes)
        if L.shape[1] < 3:
            raise ValueError(f"Snorkel's label model needs at least 3 LFs, got {L.shape[1]}")
        if L.shape[0] == 0:
            raise ValueError("cannot fit a label model on zero items")
        patterns, _, counts = distinct_patterns(L)
        self.n_patterns = len(patterns)
        model = _weighted_snorkel_class()(cardinality=self.n_classes, verbose=False)
        model.patterns = patterns
        model.weights = counts.astype(np.float64)
        balance = None if self.class_balance is None else list(self.class_balance)
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # O is tiny (m*k square): one thread is ~2x faster than two
        try:
            # Snorkel's fit reads L only to check it, to run an LFAnalysis (whose coverage is
            # replaced below) and in _generate_O (which reads self.patterns instead): one row
            # keeps that analysis from copying the whole matrix.
            model.fit(
                patterns[:1].astype(np.int64),
                class_balance=balance,
                progress_bar=False,
                **self.train_kwargs,
            )
        finally:
            torch.set_num_threads(threads)
        model.coverage = (
            np.array([counts[patterns[:, j] >= 0].sum() for j in range(patterns.shape[1])])
            / counts.sum()
        )
        self._model = model
        return self

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        """P(y | votes) per row, computed once per distinct vote pattern."""
        if self._model is None:
            raise ValueError("LabelModel is not fitted: call fit(L) first")
        L = check_votes(L, self.n_classes)
        if L.shape[1] != self._model.m:
            raise ValueError(f"fitted on {self._model.m} LFs, got votes of {L.shape[1]}")
        patterns, inverse, _ = distinct_patterns(L)
        log_mu = np.log(self._model.mu.detach().cpu().numpy()).astype(np.float64)  # as Snorkel
        log_p = np.log(self._model.p)
        out = np.empty((len(patterns), self.n_classes))
        for start in range(0, len(patterns), self.chunk_size):
            A = one_hot(patterns[start : start + self.chunk_size], self.n_classes)
            logits = A @ log_mu + log_p
            logits -= logits.max(axis=1, keepdims=True)
            X = np.exp(logits)
            out[start : start + self.chunk_size] = X / X.sum(axis=1, keepdims=True)
        return out[inverse]

    @property
    def snorkel_model(self):
        """The fitted Snorkel ``LabelModel`` (for its ``get_weights`` and the like)."""
        return self._model
