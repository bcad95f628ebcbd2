"""Featurizing 100k and 1M short texts: TF-IDF measured at full size; sentence embeddings
measured on a sample and, where the full run does not fit the machine, estimated from it.

Each stage runs in its own process (peak RSS is that stage's, read from VmHWM). Texts: the
short texts of ``al_featurize_bench`` (SMS, YouTube and AG News texts with 25 % of their words
dropped, nearly all distinct). Wall and CPU seconds are both reported: on a machine shared with
other work the wall time is an upper bound, the CPU time what the work costs.

    nice -n 10 .venv/bin/python benchmarks/featurize_scale_bench.py [--sample 2000]

Stages: ``tfidf-100k``, ``tfidf-1m`` (``TextFeaturizer().fit_transform``, what the app's TF-IDF
fallback runs), ``embed-sample`` (``embed_texts`` into an empty on-disk cache, then again from
the cache, torch's default threads). The last line is one JSON object with every stage.
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


def stage_embed(n: int) -> dict:
    import torch

    from active_learning.embeddings import _load_model, embed_texts
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
        "load_model": load,
        "embed_empty_cache": cold,
        "embed_all_cached": warm,
        "texts_per_wall_s": round(n / cold["wall_s"], 1),
        "texts_per_cpu_s": round(n / cold["cpu_s"], 1),
        "cache_bytes_per_text": round(disk / n, 1),
        "output_mb": round(X.nbytes / 2**20, 1),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stage", choices=["tfidf-100k", "tfidf-1m", "embed-sample"])
    p.add_argument("--sample", type=int, default=2000)
    args = p.parse_args()
    stages = {
        "tfidf-100k": lambda: stage_tfidf(100_000),
        "tfidf-1m": lambda: stage_tfidf(1_000_000),
        "embed-sample": lambda: stage_embed(args.sample),
    }
    if args.stage:
        print(json.dumps(stages[args.stage]()), flush=True)
        return
    out: dict = {"load_start": round(os.getloadavg()[0], 1), "cores": os.cpu_count()}
    for name in stages:
        cmd = [sys.executable, __file__, "--stage", name, "--sample", str(args.sample)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"stage {name} failed:\n{done.stderr[-2000:]}")
        out[name] = json.loads(done.stdout.strip().splitlines()[-1])
        print(name, json.dumps(out[name]), flush=True)
    e = out["embed-sample"]
    # Estimates, not measurements: the sample's CPU cost per text times n, spread over the cores
    # torch uses; memory: the (n, 384) float32 output and the cache's bytes per text.
    out["embed_estimates"] = {
        str(n): {
            "cpu_hours": round(n / e["texts_per_cpu_s"] / 3600, 2),
            "wall_hours_quiet": round(n / e["texts_per_cpu_s"] / e["torch_threads"] / 3600, 2),
            "output_mb": round(n * DIM * 4 / 2**20),
            "cache_mb": round(n * e["cache_bytes_per_text"] / 2**20),
        }
        for n in (100_000, 1_000_000)
    }
    out["load_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
