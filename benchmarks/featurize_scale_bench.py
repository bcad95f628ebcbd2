"""Featurizing 100k and 1M short texts: TF-IDF at full size; sentence embeddings at 100k (and
at ``--embed-n`` texts), with a same-texts comparison of precisions, batch sizes and threads.

Each stage runs in its own process (peak RSS is that stage's, read from VmHWM). Texts: the
short texts of ``al_featurize_bench`` (SMS, YouTube and AG News texts with 25 % of their words
dropped, nearly all distinct). Wall and CPU seconds are both reported: on a machine shared with
other work the wall time is an upper bound, the CPU time what the work costs.

    nice -n 10 .venv/bin/python benchmarks/featurize_scale_bench.py [--sample 2000]
    nice -n 10 .venv/bin/python benchmarks/featurize_scale_bench.py --stage embed-n --embed-n 100000

Stages: ``tfidf-100k``, ``tfidf-1m`` (``TextFeaturizer().fit_transform``, what the app's TF-IDF
fallback runs), ``embed-compare`` (the same ``--sample`` texts encoded with float32 and bfloat16,
batch 16/32/64, 1 and 2 torch threads: CPU and wall seconds; cosine and 10-NN agreement of the
bfloat16 vectors with the float32 ones), ``embed-sample`` (``embed_texts`` into an empty
on-disk cache, then again from the cache) and ``embed-n`` (the same at ``--embed-n`` texts,
default 100,000; the app's defaults: precision "auto", batch 32, torch's default threads).
The last line is one JSON object with every stage run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import peak_rss_mb  # noqa: E402

DIM = 384


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t: tuple[float, float]) -> dict[str, float]:
    return {
        "wall_s": round(time.perf_counter() - t[0], 2),
        "cpu_s": round(time.process_time() - t[1], 2),
    }


def stage_tfidf(n: int) -> dict:
    from active_learning.text_features import TextFeaturizer
    from benchmarks.al_featurize_bench import short_texts

    texts = short_texts(n)
    before = peak_rss_mb()
    t = _clock()
    X = TextFeaturizer().fit_transform(texts)
    return {
        "n": n,
        **_since(t),
        "terms": int(X.shape[1]),
        "nnz": int(X.nnz),
        "matrix_mb": round((X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20),
        "texts_mb_before": round(before),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def _knn_overlap(A, B, k: int = 10) -> float:
    import numpy as np

    def knn(X):
        S = X @ X.T
        np.fill_diagonal(S, -np.inf)
        return np.argpartition(-S, k, axis=1)[:, :k]

    a, b = knn(A), knn(B)
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)]))


#: (precision, torch threads, batch size) compared on the same texts; float32 at batch 64 with
#: 2 threads was the code before this round.
COMPARE = (
    ("float32", 2, 64),
    ("float32", 1, 32),
    ("bfloat16", 1, 32),
    ("bfloat16", 1, 16),
    ("bfloat16", 1, 64),
    ("bfloat16", 2, 32),
)


def stage_compare(n: int) -> dict:
    """The same texts with each precision, batch size and thread count (no cache)."""
    import numpy as np
    import torch

    from active_learning.embeddings import _model_for, encode, resolve_precision
    from benchmarks.al_featurize_bench import short_texts

    texts = short_texts(n, seed=2)
    out: dict = {"n": n, "auto_precision": resolve_precision("auto"), "runs": []}
    vecs = {}
    for precision, threads, batch in COMPARE:
        if precision not in vecs:
            _model_for(precision)
            encode(texts[:64], precision=precision)  # warm
        torch.set_num_threads(threads)
        t = _clock()
        X = encode(texts, batch_size=batch, precision=precision)
        took = _since(t)
        vecs[precision] = X
        run = {"precision": precision, "threads": threads, "batch": batch, **took}
        run["texts_per_cpu_s"] = round(n / max(took["cpu_s"], 1e-9), 1)
        run["texts_per_wall_s"] = round(n / max(took["wall_s"], 1e-9), 1)
        run["load"] = round(os.getloadavg()[0], 1)
        out["runs"].append(run)
        print(json.dumps(run), file=sys.stderr, flush=True)
    a, b = vecs["float32"], vecs["bfloat16"]
    cos = (a * b).sum(axis=1)
    out["bf16_vs_fp32"] = {
        "cosine_min": round(float(cos.min()), 5),
        "cosine_mean": round(float(cos.mean()), 6),
        "knn10_overlap": round(_knn_overlap(a, b), 4),
        "max_abs_diff": float(np.abs(a - b).max()),
    }
    return out


def stage_embed(n: int) -> dict:
    import torch

    from active_learning.embeddings import (
        _load_model,
        embed_texts,
        resolve_precision,
        torch_threads,
    )
    from benchmarks.al_featurize_bench import short_texts

    texts = short_texts(n, seed=1)
    cache = Path(tempfile.mkdtemp(prefix="embscale-"))
    try:
        t = _clock()
        _load_model()
        load = _since(t)
        t = _clock()
        X = embed_texts(texts, cache_dir=cache)
        cold = _since(t)
        disk = sum(f.stat().st_size for f in cache.iterdir())
        t = _clock()
        embed_texts(texts, cache_dir=cache)
        warm = _since(t)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {
        "n": n,
        "torch_threads": torch.get_num_threads(),
        "threads_at_start": torch_threads(torch.get_num_threads()),  # 1 on a busy machine
        "precision": resolve_precision("auto"),
        "load_model": load,
        "embed_empty_cache": cold,
        "embed_all_cached": warm,
        "texts_per_wall_s": round(n / cold["wall_s"], 1),
        "texts_per_cpu_s": round(n / cold["cpu_s"], 1),
        "cache_bytes_per_text": round(disk / n, 1),
        "output_mb": round(X.nbytes / 2**20, 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def stage_arrays(n: int) -> dict:
    """The memory of ``embed_texts``'s own arrays at ``n`` texts: the model replaced by random
    unit vectors, a cold call into an empty cache, then an all-cached call (peak RSS above the
    start, each call's own: VmHWM is reset between them)."""
    import numpy as np

    from active_learning import embeddings

    def random_vectors(texts: list, **_: object) -> np.ndarray:
        v = np.random.default_rng(len(texts)).random((len(texts), DIM), dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    embeddings.encode = random_vectors
    texts = [f"text number {i} about something" for i in range(n)]
    cache = Path(tempfile.mkdtemp(prefix="embarrays-"))
    try:
        start = peak_rss_mb()
        X = embeddings.embed_texts(texts, cache_dir=cache, precision="float32")
        cold = peak_rss_mb() - start
        del X
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        embeddings.embed_texts(texts, cache_dir=cache, precision="float32")
        warm = peak_rss_mb() - start
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return {"n": n, "cold_call_mb": round(cold), "cached_call_mb": round(warm)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--stage",
        choices=["tfidf-100k", "tfidf-1m", "embed-compare", "embed-sample", "embed-n", "arrays"],
    )
    p.add_argument("--sample", type=int, default=2000)
    p.add_argument("--embed-n", type=int, default=100_000)
    args = p.parse_args()
    stages = {
        "tfidf-100k": lambda: stage_tfidf(100_000),
        "tfidf-1m": lambda: stage_tfidf(1_000_000),
        "embed-compare": lambda: stage_compare(args.sample),
        "embed-sample": lambda: stage_embed(args.sample),
        "embed-n": lambda: stage_embed(args.embed_n),
        "arrays": lambda: stage_arrays(args.embed_n),
    }
    if args.stage:
        print(json.dumps(stages[args.stage]()), flush=True)
        return
    out: dict = {"load_start": round(os.getloadavg()[0], 1), "cores": os.cpu_count()}
    for name in stages:
        cmd = [sys.executable, __file__, "--stage", name, "--sample", str(args.sample)]
        cmd += ["--embed-n", str(args.embed_n)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"stage {name} failed:\n{done.stderr[-2000:]}")
        out[name] = json.loads(done.stdout.strip().splitlines()[-1])
        print(name, json.dumps(out[name]), flush=True)
    e = out["embed-n"]
    # An estimate, not a measurement: the measured run's CPU cost per text times 1M, spread over
    # the cores torch uses; memory: the (n, 384) float32 output and the cache's bytes per text.
    n = 1_000_000
    out["embed_estimate_1m"] = {
        "from_n": e["n"],
        "cpu_hours": round(n / e["texts_per_cpu_s"] / 3600, 2),
        "wall_hours_quiet": round(n / e["texts_per_cpu_s"] / e["torch_threads"] / 3600, 2),
        "output_mb": round(n * DIM * 4 / 2**20),
        "cache_mb": round(n * e["cache_bytes_per_text"] / 2**20),
    }
    out["load_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
