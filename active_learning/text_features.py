"""TF-IDF features for text: fit once per data version, reuse across every retrain."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer


class TextFeaturizer:
    """``TfidfVectorizer`` with defaults that suit short labeling texts, plus ``save``/``load``.

    Defaults: single words, all of them (``min_df=1``), at most 200k terms. Measured with the
    default classifier at 100-1000 random labels, this beat words+bigrams with ``min_df=2`` and
    sublinear tf on both SMS spam (0.955 vs 0.937 at 400 labels) and AG News (0.797 vs 0.791).

    Rows are L2-normalised, so Euclidean distances between rows follow cosine similarity.
    """

    name = "tfidf"

    def __init__(
        self,
        *,
        ngram_range: tuple[int, int] = (1, 1),
        min_df: int | float = 1,
        max_features: int | None = 200_000,
        dtype: Any = np.float32,
    ) -> None:
        self.vectorizer = TfidfVectorizer(
            ngram_range=ngram_range,
            min_df=min_df,
            max_features=max_features,
            strip_accents="unicode",
            dtype=dtype,
        )

    @staticmethod
    def _texts(texts: Iterable[Any]) -> list[str]:
        out = ["" if t is None or (isinstance(t, float) and np.isnan(t)) else str(t) for t in texts]
        if not out:
            raise ValueError("No texts to featurize: the list is empty.")
        return out

    def fit(self, texts: Iterable[Any]) -> TextFeaturizer:
        """Learn the vocabulary and idf from all of a project's texts (labels are not needed)."""
        texts = self._texts(texts)
        try:
            self.vectorizer.fit(texts)
        except ValueError as exc:  # e.g. min_df too high for a handful of texts
            raise ValueError(
                f"TF-IDF could not be fitted on {len(texts)} texts ({exc}); "
                "check that the texts contain words (and min_df is not above the number of texts)."
            ) from exc
        return self

    def transform(self, texts: Iterable[Any]) -> sp.csr_matrix:
        """Sparse TF-IDF rows for ``texts`` (unknown words are ignored)."""
        if not hasattr(self.vectorizer, "vocabulary_"):
            raise ValueError("TextFeaturizer is not fitted; call fit(texts) first.")
        return self.vectorizer.transform(self._texts(texts)).tocsr()

    def fit_transform(self, texts: Iterable[Any]) -> sp.csr_matrix:
        texts = self._texts(texts)
        return self.fit(texts).transform(texts)

    @property
    def n_features(self) -> int:
        return len(self.vectorizer.vocabulary_)

    def save(self, path: str | Path) -> None:
        """Persist the fitted featurizer (joblib) to reuse it across retrains."""
        import joblib

        joblib.dump(self, path)

    @staticmethod
    def load(path: str | Path) -> TextFeaturizer:
        import joblib

        obj = joblib.load(path)
        if not isinstance(obj, TextFeaturizer):
            raise TypeError(f"{path} holds a {type(obj).__name__}, not a TextFeaturizer.")
        return obj
