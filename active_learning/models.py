"""The default classifier the strategies query: logistic regression, fast on sparse TF-IDF."""

from __future__ import annotations

from typing import Any

from sklearn.base import ClassifierMixin
from sklearn.linear_model import LogisticRegression


def make_classifier(random_state: Any = 0) -> ClassifierMixin:
    """An unfitted ``LogisticRegression`` that suits TF-IDF features and small label sets.

    ``C=10`` because with few labels the default ``C=1`` over-regularises sparse text features;
    ``class_weight="balanced"`` because with a rare class (SMS spam: 13 %) and few labels the
    unweighted model predicts only the majority (measured on SMS spam, 400 random labels:
    0.918 -> 0.955 test accuracy; AG News unchanged).
    ``newton-cg`` because with scipy 1.17 the default ``lbfgs`` spends ~30 ms per iteration on
    the ~170k weights of a 4-class TF-IDF model (2-5 s per fit measured on AG News), while
    newton-cg reaches the same optimum (same test accuracy) in 0.05-0.15 s.
    """
    return LogisticRegression(
        C=10.0, solver="newton-cg", class_weight="balanced", max_iter=200, random_state=random_state
    )
