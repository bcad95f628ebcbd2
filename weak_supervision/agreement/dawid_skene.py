"""Dawid-Skene EM: each annotator's confusion matrix, class priors, a consensus posterior per item.

Dawid & Skene (1979), "Maximum Likelihood Estimation of Observer Error-Rates Using the EM
Algorithm". Annotators are noisy sources with a confusion matrix ``P(answer = l | true class = k)``;
EM alternates between the posterior of each item's true class (E) and the priors and confusion
matrices that maximise the expected likelihood (M). Both steps are sparse matrix products over the
(item, annotator x answer) count matrix, so any number of classes, annotators and missing answers
is handled without loops over items. Hand-written because snorkel's LabelModel is a different model
(matrix completion over LF agreements, no per-item EM posteriors from an annotator confusion
matrix) and no maintained package for Dawid-Skene is among our dependencies.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import logsumexp, softmax

from weak_supervision.agreement.votes import EncodedAnswers, argmax_first, encode_answers

_LOG_FLOOR = 1e-300  # log(0) would give -inf and NaN in products; this is effectively zero.


class DawidSkene:
    """Dawid-Skene EM aggregation of annotators' answers.

    Parameters
    ----------
    max_iter : maximum number of EM iterations.
    tol : stop when the log-likelihood improves by less than this.
    smoothing : pseudo-count added to every confusion-matrix cell and prior (0 = the original
        maximum likelihood; a small value such as 0.01 keeps rare answers from probability 0).
    init : "proportions" starts from each item's share of answers per class (Dawid & Skene);
        "majority" from the one-hot majority vote.

    Attributes after ``fit``: ``classes_``, ``items_``, ``annotators_``, ``priors_`` (n_classes,),
    ``confusion_`` (n_annotators, n_classes, n_classes; row = true class, column = answer),
    ``posteriors_`` (DataFrame items x classes), ``log_likelihood_``, ``n_iter_``, ``converged_``.
    """

    def __init__(
        self,
        max_iter: int = 1000,
        tol: float = 1e-6,
        smoothing: float = 0.0,
        init: Literal["proportions", "majority"] = "proportions",
    ) -> None:
        self.max_iter = max_iter
        self.tol = tol
        self.smoothing = smoothing
        self.init = init

    def fit(
        self,
        answers: pd.DataFrame,
        item: str = "item",
        annotator: str = "annotator",
        label: str = "label",
        classes=None,
        gold: pd.Series | None = None,
    ) -> DawidSkene:
        """Estimate priors, confusion matrices and posteriors from a long table of answers.

        ``gold`` (known label per item, e.g. seeded gold items) fixes those items' true class
        instead of estimating it, which anchors the annotators' confusion matrices.
        """
        if self.max_iter < 1:
            raise ValueError(f"max_iter must be >= 1, got {self.max_iter}.")
        if self.smoothing < 0:
            raise ValueError(f"smoothing must be >= 0, got {self.smoothing}.")
        if self.init not in ("proportions", "majority"):
            raise ValueError(f"init must be 'proportions' or 'majority', got {self.init!r}.")
        encoded = encode_answers(answers, item, annotator, label, classes)
        self._fit_encoded(encoded, gold)
        return self

    @staticmethod
    def _gold_codes(encoded: EncodedAnswers, gold) -> tuple[np.ndarray, np.ndarray]:
        """Positions of answered gold items and the codes of their known classes."""
        if gold is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        gold = (gold if isinstance(gold, pd.Series) else pd.Series(dict(gold))).dropna()
        rows = encoded.items.get_indexer(gold.index)
        known = rows >= 0
        codes = pd.Index(encoded.classes).get_indexer(gold.to_numpy()[known])
        if (codes < 0).any():
            unknown = sorted({str(v) for v in gold.to_numpy()[known][codes < 0]})[:5]
            raise ValueError(
                f"gold holds label(s) {unknown} that are not among the classes "
                f"{encoded.classes.tolist()}; pass classes= or fix the gold labels."
            )
        return rows[known], codes

    def _fit_encoded(self, encoded: EncodedAnswers, gold=None) -> None:
        n_items, n_classes = encoded.n_items, encoded.n_classes
        n_annotators = len(encoded.annotators)
        # counts[i, a * K + l] = how often annotator a answered l on item i.
        counts = sp.csr_matrix(
            (
                np.ones(len(encoded.item)),
                (encoded.item, encoded.annotator * n_classes + encoded.label),
            ),
            shape=(n_items, n_annotators * n_classes),
        )
        counts.sum_duplicates()
        counts_t = counts.T.tocsr()

        votes = encoded.vote_counts().toarray()
        if self.init == "majority":
            start = np.eye(n_classes)[argmax_first(votes)]
        else:
            start = votes / votes.sum(axis=1, keepdims=True)
        gold_rows, gold_codes = self._gold_codes(encoded, gold)
        known = np.eye(n_classes)[gold_codes]
        start[gold_rows] = known
        runs = [self._run_em(start, counts, counts_t, gold_rows, known)]
        if len(gold_rows):
            # EM has local optima (e.g. a majority of annotators who swap two classes pulls it
            # to the swapped labelling). Also start from what the gold items alone say about each
            # annotator, and keep whichever run explains answers and gold better.
            gold_only = np.zeros_like(start)
            gold_only[gold_rows] = known
            runs.append(self._run_em(gold_only, counts, counts_t, gold_rows, known))
        best = max(runs, key=lambda run: run["log_likelihood"])

        self.classes_ = encoded.classes
        self.items_ = encoded.items
        self.annotators_ = encoded.annotators
        self.priors_ = best["priors"]
        self.confusion_ = best["confusion"]
        self.log_likelihood_ = best["log_likelihood"]
        self.n_iter_ = best["n_iter"]
        self.converged_ = best["converged"]
        self.posteriors_ = pd.DataFrame(
            best["posteriors"], index=encoded.items, columns=encoded.classes
        )

    def _run_em(
        self,
        posteriors: np.ndarray,
        counts: sp.csr_matrix,
        counts_t: sp.csr_matrix,
        gold_rows: np.ndarray,
        known: np.ndarray,
    ) -> dict:
        """EM from initial posteriors until the log-likelihood gains less than ``tol``."""
        n_classes = posteriors.shape[1]
        n_annotators = counts.shape[1] // n_classes
        previous = -np.inf
        converged, n_iter = False, 0
        for n_iter in range(1, self.max_iter + 1):  # noqa: B007 - n_iter is reported after
            priors, confusion = self._m_step(posteriors, counts_t, n_annotators, n_classes)
            joint = self._log_joint(priors, confusion, counts)
            posteriors = softmax(joint, axis=1)
            posteriors[gold_rows] = known
            # log P(answers, gold): on gold items the known class, not the sum over classes.
            item_likelihood = logsumexp(joint, axis=1)
            item_likelihood[gold_rows] = (joint[gold_rows] * known).sum(axis=1)
            log_likelihood = float(item_likelihood.sum())
            if log_likelihood - previous < self.tol:
                converged = True
                break
            previous = log_likelihood
        return {
            "priors": priors,
            "confusion": confusion,
            "posteriors": posteriors,
            "log_likelihood": log_likelihood,
            "n_iter": n_iter,
            "converged": converged,
        }

    def _m_step(
        self, posteriors: np.ndarray, counts_t: sp.csr_matrix, n_annotators: int, n_classes: int
    ) -> tuple[np.ndarray, np.ndarray]:
        priors = posteriors.sum(axis=0) + self.smoothing
        priors = priors / priors.sum()
        # expected[a * K + l, k] = expected number of times a answered l when the truth was k.
        expected = np.asarray(counts_t @ posteriors).reshape(n_annotators, n_classes, n_classes)
        confusion = expected.transpose(0, 2, 1) + self.smoothing
        totals = confusion.sum(axis=2, keepdims=True)
        # A true class an annotator never met gets a uniform row: there is no evidence about it.
        confusion = np.divide(
            confusion, totals, out=np.full_like(confusion, 1.0 / n_classes), where=totals > 0
        )
        return priors, confusion

    @staticmethod
    def _log_joint(priors: np.ndarray, confusion: np.ndarray, counts: sp.csr_matrix) -> np.ndarray:
        """log P(true class k, item i's answers) for every item and class (the E-step)."""
        n_annotators, n_classes, _ = confusion.shape
        # log_rates[a * K + l, k] = log P(answer l | truth k) for annotator a.
        log_rates = np.log(np.maximum(confusion, _LOG_FLOOR)).transpose(0, 2, 1)
        log_rates = log_rates.reshape(n_annotators * n_classes, n_classes)
        joint = np.log(np.maximum(priors, _LOG_FLOOR)) + np.asarray(counts @ log_rates)
        return joint

    def predict(self) -> pd.Series:
        """The consensus label per item: the most probable class (a tie goes to the first class)."""
        self._check_fitted()
        winner = argmax_first(self.posteriors_.to_numpy())
        return pd.Series(self.classes_[winner], index=self.items_, name="label")

    def predict_proba(self) -> pd.DataFrame:
        """Posterior probability of each class per item (items x classes)."""
        self._check_fitted()
        return self.posteriors_

    def fit_predict(self, answers: pd.DataFrame, **columns) -> pd.Series:
        """Fit on ``answers`` and return the consensus label per item."""
        return self.fit(answers, **columns).predict()

    def annotator_confusion(self, annotator) -> pd.DataFrame:
        """One annotator's estimated confusion matrix (rows: true class, columns: answer)."""
        self._check_fitted()
        if annotator not in self.annotators_:
            raise KeyError(
                f"unknown annotator {annotator!r}; known: {list(self.annotators_[:10])}..."
            )
        matrix = self.confusion_[self.annotators_.get_loc(annotator)]
        return pd.DataFrame(matrix, index=self.classes_, columns=self.classes_)

    def annotator_reliability(self) -> pd.DataFrame:
        """Per annotator: estimated accuracy (``sum_k prior_k P(correct | k)``) and mean recall."""
        self._check_fitted()
        diagonal = np.diagonal(self.confusion_, axis1=1, axis2=2)
        return pd.DataFrame(
            {"accuracy": diagonal @ self.priors_, "mean_recall": diagonal.mean(axis=1)},
            index=self.annotators_,
        )

    def _check_fitted(self) -> None:
        if not hasattr(self, "posteriors_"):
            raise RuntimeError("DawidSkene is not fitted yet; call fit(answers) first.")
