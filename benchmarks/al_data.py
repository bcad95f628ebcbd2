"""The real text data sets of the active-learning benchmarks, and their cached embeddings.

SMS spam (5,574 messages, 2 classes, 13 % spam), AG News test split (7,600 news, 4 balanced
classes) and the UCI YouTube spam comments (1,956 comments, 2 classes), from ../shared/data.
Embeddings are kept per text in ``benchmarks/out/embeddings`` (ignored by git): computed once,
reruns read them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LABELAPP_SHARED_DATA", REPO.parent / "shared" / "data"))
EMBED_CACHE = REPO / "benchmarks" / "out" / "embeddings"
DATASETS = ("sms", "ag_news", "youtube")


def load(name: str, max_rows: int | None = None, seed: int = 0) -> tuple[list[str], Any]:
    """(texts, labels) of data set ``name``; ``max_rows`` subsamples it."""
    import numpy as np
    import pandas as pd

    from tests.paths import read_ag_news, read_sms_spam

    if name == "sms":
        df = read_sms_spam()
    elif name == "ag_news":
        df = read_ag_news()
    elif name == "youtube":
        files = sorted((DATA / "youtube_spam_uci").glob("Youtube0*.csv"))
        df = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
        df = df.rename(columns={"CONTENT": "text", "CLASS": "label"})
    else:
        raise SystemExit(f"unknown data set {name!r}; use one of {', '.join(DATASETS)}")
    if max_rows and max_rows < len(df):
        df = df.sample(n=max_rows, random_state=seed).reset_index(drop=True)
    return df["text"].astype(str).tolist(), np.asarray(df["label"])


def features(texts: list[str], featurizer: str) -> Any:
    """TF-IDF, or embeddings read from / added to the benchmark's on-disk cache."""
    if featurizer == "embeddings":
        from active_learning.features import embed_texts

        return embed_texts(texts, cache_dir=EMBED_CACHE, batch_size=64)
    from active_learning.text_features import TextFeaturizer

    return TextFeaturizer().fit_transform(texts)


def synthetic_texts(n: int, seed: int = 0) -> tuple[list[str], Any]:
    """``n`` distinct but realistic news texts (AG News test texts, drawn with replacement, each
    with 25 % of its words dropped at random) and their AG News labels (1-4)."""
    import numpy as np

    from tests.paths import read_ag_news

    df = read_ag_news()
    words = [f"{t}. {d}".split() for t, d in zip(df["title"], df["description"], strict=True)]
    rng = np.random.default_rng(seed)
    base = rng.integers(0, len(words), n)
    texts = []
    for b in base:
        w = words[b]
        keep = rng.random(len(w)) >= 0.25
        texts.append(" ".join(x for x, k in zip(w, keep, strict=True) if k))
    return texts, df["label"].to_numpy()[base]


if __name__ == "__main__":  # warm the embedding cache: .venv/bin/python benchmarks/al_data.py
    import sys
    import time

    sys.path.insert(0, str(REPO))
    for ds in DATASETS:
        t0 = time.perf_counter()
        X = features(load(ds)[0], "embeddings")
        print(f"{ds}: {X.shape} in {time.perf_counter() - t0:.1f} s", flush=True)
