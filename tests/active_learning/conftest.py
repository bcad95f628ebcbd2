"""Small real data for the active-learning tests: AG News and SMS spam subsets, TF-IDF, a model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from active_learning.models import make_classifier
from active_learning.text_features import TextFeaturizer
from tests.paths import read_ag_news, read_sms_spam


def ag_news(n: int = 1200, seed: int = 0) -> pd.DataFrame:
    return read_ag_news().sample(n=n, random_state=seed).reset_index(drop=True)[["text", "label"]]


def sms_spam(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    return read_sms_spam().sample(n=n, random_state=seed).reset_index(drop=True)[["text", "label"]]


@dataclass
class PoolCase:
    """A labeled set, an unlabeled pool and a model fitted on the labels (AG News, 4 classes)."""

    X: Any
    y: np.ndarray
    labeled: np.ndarray
    pool: np.ndarray
    model: Any

    @property
    def X_pool(self) -> Any:
        return self.X[self.pool]

    @property
    def state(self) -> dict[str, Any]:
        return {"X_labeled": self.X[self.labeled], "y_labeled": self.y[self.labeled]}


@pytest.fixture(scope="session")
def ag_case() -> PoolCase:
    df = ag_news()
    X = TextFeaturizer().fit_transform(df["text"])
    y = df["label"].to_numpy()
    rng = np.random.default_rng(0)
    labeled = np.sort(rng.choice(len(y), 120, replace=False))
    pool = np.setdiff1d(np.arange(len(y)), labeled)
    return PoolCase(X, y, labeled, pool, make_classifier().fit(X[labeled], y[labeled]))
