"""Label propagation and the noise-aware end model on real text (WRENCH youtube)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from tests.paths import SHARED_DATA
from weak_supervision.end_model import fit_end_model, soft_label_training_set
from weak_supervision.label_model import LabelModel
from weak_supervision.propagation import propagate, propagation_seeds
from weak_supervision.wrench import load_wrench


@pytest.fixture(scope="module")
def youtube():
    ds = load_wrench(SHARED_DATA / "wrench" / "youtube")
    train, test = ds.splits["train"], ds.splits["test"]
    texts = train.texts + test.texts
    L = np.vstack([train.weak_labels, test.weak_labels])
    y = np.concatenate([train.labels, test.labels])
    X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(texts)
    probs = LabelModel(2, n_epochs=100).fit(L).predict_proba(L)
    return X, L, y, probs, len(train.texts)


def test_propagation_labels_items_no_lf_covers(youtube):
    X, L, y, probs, _ = youtube
    covered = (L >= 0).any(axis=1)
    seeds = propagation_seeds(None, probs, threshold=0.8, lm_mask=covered)
    assert (seeds[~covered] == -1).all() and (seeds >= 0).sum() > 500
    out = propagate(X, seeds, 2, n_neighbors=10)
    reached = out.sum(axis=1) > 0
    gained = ~covered & reached
    assert gained.sum() >= 0.8 * (~covered).sum()  # most uncovered items get a label
    acc = (out[gained].argmax(axis=1) == y[gained]).mean()
    assert acc > 0.7, acc  # well above the 50% of a coin on this balanced data


def test_human_labels_override_label_model_seeds():
    probs = np.array([[0.95, 0.05], [0.5, 0.5], [0.1, 0.9]])
    seeds = propagation_seeds(np.array([-1, -1, 0]), probs, threshold=0.9)
    assert seeds.tolist() == [0, -1, 0]
    with pytest.raises(ValueError, match="no seeds"):
        propagate(np.eye(3), np.array([-1, -1, -1]), 2)


def test_soft_label_end_model_beats_chance_on_test(youtube):
    X, L, y, probs, n_train = youtube
    covered = (L[:n_train] >= 0).any(axis=1)
    train_probs = np.where(covered[:, None], probs[:n_train], 0.0)
    model = fit_end_model(X[:n_train], train_probs)
    acc = (model.predict(X[n_train:]) == y[n_train:]).mean()
    assert acc > 0.85, acc
    X_rep, y_rep, w = soft_label_training_set(X[:2], np.array([[0.7, 0.3], [1.0, 0.0]]))
    assert y_rep.tolist() == [0, 1, 0] and np.allclose(w, [0.7, 0.3, 1.0])
