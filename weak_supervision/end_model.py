"""A noise-aware end model: a classifier trained on probabilistic labels via sample weights.

Each training item appears once per class, weighted by its probability of that class, so a
0.55/0.45 item teaches far less than a 0.99/0.01 one (the expected loss under the label model).
Items with a human label train on it instead, with weight ``human_weight``: the app has human
labels, and on the spam tutorial 120 of them in the target domain are worth more than the
label model's guesses (see ``DEFAULT_TEXT_RECIPE``).

``fit_text_end_model`` is the text recipe (features + logistic regression); ``select_recipe``
chooses one from a grid by cross-validation over the human-labeled items only, so the choice
never sees a test split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

DEFAULT_C = 1e3  # fit_end_model's default classifier: Snorkel's spam tutorial (word counts)
DEFAULT_HUMAN_WEIGHT = 100.0


@dataclass(frozen=True)
class TextRecipe:
    """How to train a text end model: ``features`` (a key of ``FEATURES``), the inverse
    regularization ``C`` of the logistic regression, the weight of a human label relative to
    a label-model label, and whether label-model labels are soft (sample weights) or hard."""

    features: str = "tfidf_char_2_5"
    C: float = 10.0
    human_weight: float = DEFAULT_HUMAN_WEIGHT
    soft: bool = True


def _tfidf_1_2() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)


def _count_1_5() -> Any:
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(ngram_range=(1, 5))


def _tfidf_char_2_5() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)


def _tfidf_word_char() -> Any:
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion([("word", _tfidf_1_2()), ("char", _tfidf_char_2_5())])


FEATURES = {
    "tfidf_1_2": _tfidf_1_2,
    "count_1_5": _count_1_5,
    "tfidf_char_2_5": _tfidf_char_2_5,
    "tfidf_word_char": _tfidf_word_char,
}
DEFAULT_TEXT_RECIPE = TextRecipe()
# Snorkel's spam tutorial: 1-5-gram counts, C=1e3, the label model's hard labels, no human labels.
TUTORIAL_TEXT_RECIPE = TextRecipe("count_1_5", C=1e3, soft=False)


def soft_label_training_set(X, probs: np.ndarray, min_weight: float = 1e-3):
    """``(X_rep, y_rep, weights)``: rows of ``X`` repeated per class with weight P(class)."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != X.shape[0]:
        raise ValueError(f"probs must be (n_items, n_classes) for {X.shape[0]} items")
    rows, classes = np.nonzero(probs >= min_weight)
    X_rep = _rows(X, rows)
    return X_rep, classes, probs[rows, classes]


def _rows(X, idx: np.ndarray):
    return X[idx] if sp.issparse(X) else np.asarray(X)[idx]


def training_set(
    X,
    probs: np.ndarray,
    human_labels: np.ndarray | None = None,
    human_weight: float = DEFAULT_HUMAN_WEIGHT,
    soft: bool = True,
):
    """``(X_train, y, weights)`` from label-model ``probs`` (rows summing to 0 are skipped) and
    optional ``human_labels`` (-1 = none; a human label replaces the item's probs)."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[0] != X.shape[0]:
        raise ValueError(f"probs must be (n_items, n_classes) for {X.shape[0]} items")
    human = np.full(len(probs), -1) if human_labels is None else np.asarray(human_labels)
    if human.shape != (len(probs),):
        raise ValueError(f"human_labels must have one entry per item ({len(probs)}), -1 = none")
    if human.max(initial=-1) >= probs.shape[1] or human.min(initial=-1) < -1:
        raise ValueError(f"human_labels must be -1 or a class in 0..{probs.shape[1] - 1}")
    if human_weight <= 0 and (human >= 0).any():
        raise ValueError("human_weight must be > 0 when human labels are given")
    weak = np.flatnonzero((probs.sum(axis=1) > 0) & (human < 0))
    if soft:
        X_w, y_w, w_w = soft_label_training_set(_rows(X, weak), probs[weak])
    else:
        X_w, y_w, w_w = _rows(X, weak), probs[weak].argmax(axis=1), np.ones(len(weak))
    labeled = np.flatnonzero(human >= 0)
    if not len(weak) and not len(labeled):
        raise ValueError("no item has a probabilistic or human label to train on")
    X_h = _rows(X, labeled)
    stack = sp.vstack if sp.issparse(X) else np.vstack
    X_all = stack([X_w, X_h]) if len(weak) else X_h
    y = np.concatenate([y_w, human[labeled]]).astype(np.int64)
    weights = np.concatenate([w_w, np.full(len(labeled), float(human_weight))])
    if len(np.unique(y)) < 2:
        raise ValueError("the labels cover a single class: nothing to learn")
    return X_all, y, weights


def fit_end_model(
    X,
    probs: np.ndarray,
    estimator=None,
    human_labels: np.ndarray | None = None,
    human_weight: float = DEFAULT_HUMAN_WEIGHT,
    soft: bool = True,
):
    """Fit ``estimator`` (default: logistic regression, C=``DEFAULT_C``, liblinear) on the soft
    labels ``probs`` and, if given, ``human_labels`` weighted ``human_weight``."""
    from sklearn.linear_model import LogisticRegression

    X_train, y, weights = training_set(X, probs, human_labels, human_weight, soft)
    model = (
        estimator if estimator is not None else LogisticRegression(C=DEFAULT_C, solver="liblinear")
    )
    model.fit(X_train, y, sample_weight=weights)
    return model


class TextEndModel:
    """A fitted featurizer + classifier over raw texts."""

    def __init__(self, vectorizer: Any, classifier: Any, recipe: TextRecipe) -> None:
        self.vectorizer, self.classifier, self.recipe = vectorizer, classifier, recipe

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.classifier.predict_proba(self.vectorizer.transform(_clean(texts)))

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.classifier.predict(self.vectorizer.transform(_clean(texts)))


def _clean(texts: Sequence[Any]) -> list[str]:
    return [t if isinstance(t, str) else "" for t in texts]


def fit_text_end_model(
    texts: Sequence[str],
    probs: np.ndarray,
    human_labels: np.ndarray | None = None,
    recipe: TextRecipe = DEFAULT_TEXT_RECIPE,
    vocabulary_texts: Sequence[str] | None = None,
) -> TextEndModel:
    """Train ``recipe`` on ``texts`` with label-model ``probs`` (all-zero rows: no label) and
    optional ``human_labels`` (-1 = none). The featurizer is fitted on ``vocabulary_texts``
    (default: ``texts``; no labels are read from it)."""

    if recipe.features not in FEATURES:
        raise ValueError(f"unknown features {recipe.features!r}; use one of {sorted(FEATURES)}")
    texts = _clean(texts)
    if len(texts) != len(probs):
        raise ValueError(f"{len(texts)} texts but {len(probs)} rows of probs")
    vectorizer = FEATURES[recipe.features]().fit(
        texts if vocabulary_texts is None else _clean(vocabulary_texts)
    )
    classifier = fit_end_model(
        vectorizer.transform(texts),
        probs,
        _classifier(recipe),
        human_labels,
        recipe.human_weight,
        recipe.soft,
    )
    return TextEndModel(vectorizer, classifier, recipe)


def recipe_grid(
    features: Sequence[str] = ("tfidf_1_2", "count_1_5", "tfidf_char_2_5"),
    Cs: Sequence[float] = (10.0, 100.0, 1000.0),
    human_weights: Sequence[float] = (1.0, 10.0, 100.0),
    soft: Sequence[bool] = (True, False),
) -> list[TextRecipe]:
    """Every combination, in order (``select_recipe`` breaks ties towards earlier ones)."""
    return [
        TextRecipe(f, c, w, s) for f in features for c in Cs for w in human_weights for s in soft
    ]


def select_recipe(
    texts: Sequence[str],
    probs: np.ndarray,
    human_labels: np.ndarray,
    grid: Sequence[TextRecipe] | None = None,
    n_splits: int = 5,
    seeds: Sequence[int] = (0, 1),
) -> tuple[TextRecipe, dict[TextRecipe, float]]:
    """The recipe of ``grid`` with the best accuracy on held-out human labels: stratified
    ``n_splits``-fold cross-validation over the human-labeled items (repeated per seed); each
    fold trains on the label-model labels plus the other folds' human labels. Ties go to the
    earlier recipe in the grid. Returns the recipe and every recipe's accuracy."""
    from sklearn.model_selection import StratifiedKFold

    human = np.asarray(human_labels)
    labeled = np.flatnonzero(human >= 0)
    if len(labeled) < 2 * n_splits:
        raise ValueError(f"need at least {2 * n_splits} human labels to cross-validate")
    texts = _clean(texts)
    grid = list(grid) if grid is not None else recipe_grid()
    folds = [
        (labeled[a], labeled[b])
        for seed in seeds
        for a, b in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(
            labeled, human[labeled]
        )
    ]
    scores: dict[TextRecipe, float] = {}
    cache: dict[str, Any] = {}
    for recipe in grid:
        if recipe.features not in cache:  # featurize once per feature set
            cache[recipe.features] = FEATURES[recipe.features]().fit_transform(texts).tocsr()
        X = cache[recipe.features]
        correct = total = 0
        for _train, held in folds:
            fold_human = human.copy()
            fold_human[held] = -1
            fold_probs = probs.copy()
            fold_probs[held] = 0  # held-out items do not train, on any label
            model = fit_end_model(
                X,
                fold_probs,
                _classifier(recipe),
                fold_human,
                recipe.human_weight,
                recipe.soft,
            )
            correct += int((model.predict(X[held]) == human[held]).sum())
            total += len(held)
        scores[recipe] = correct / total
    best = max(grid, key=lambda r: (scores[r], -grid.index(r)))
    return best, scores


def _classifier(recipe: TextRecipe) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=recipe.C, solver="liblinear", random_state=0)


__all__ = [
    "DEFAULT_TEXT_RECIPE",
    "FEATURES",
    "TextEndModel",
    "TUTORIAL_TEXT_RECIPE",
    "TextRecipe",
    "fit_end_model",
    "fit_text_end_model",
    "recipe_grid",
    "select_recipe",
    "soft_label_training_set",
    "training_set",
]
