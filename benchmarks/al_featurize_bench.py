"""Featurizing short texts with sentence embeddings (all-MiniLM-L6-v2, CPU) vs TF-IDF.

Texts: ``--n`` synthetic short texts, each an SMS, YouTube comment or AG News text (drawn at
random) with 25 % of its words dropped, so nearly all are distinct. Measures, in one process:
loading the model; embedding every text into an empty on-disk cache (``embed_texts`` with
``cache_dir``, time, texts/s, peak RSS increase sampled every 20 ms); the same call again
(everything read from the cache); the call after 1 % of the texts changed (only those are
embedded); and TF-IDF ``fit_transform`` of the same texts for comparison.

    nice -n 19 .venv/bin/python benchmarks/al_featurize_bench.py --n 100000
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import peak_rss_mb  # noqa: E402
from benchmarks.al_data import load  # noqa: E402
from benchmarks.al_speed_bench import rss_mb, sampled_peak_mb  # noqa: E402


def short_texts(n: int, seed: int = 0) -> list[str]:
    """``n`` texts from the three benchmark data sets with 25 % of their words dropped."""
    import numpy as np

    words = [t.split() for ds in ("sms", "youtube", "ag_news") for t in load(ds)[0]]
    rng = np.random.default_rng(seed)
    out = []
    for b in rng.integers(0, len(words), n):
        w = words[b]
        keep = rng.random(len(w)) >= 0.25
        out.append(" ".join(x for x, k in zip(w, keep, strict=True) if k) or w[0])
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--cache-dir", type=Path, default=None, help="default: a temporary directory")
    args = p.parse_args()

    from active_learning.embeddings import _load_model, embed_texts
    from active_learning.text_features import TextFeaturizer

    texts = short_texts(args.n)
    n_words = sum(len(t.split()) for t in texts) / len(texts)
    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="embcache-"))
    print(
        f"# {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M')}, load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{args.n:,} texts, {n_words:.1f} words/text on average, "
        f"{len(set(texts)):,} distinct; cache {cache}\n"
    )
    rows = []
    t0 = time.perf_counter()
    _load_model()
    rows.append(
        (
            "load the model (torch + sentence-transformers import)",
            time.perf_counter() - t0,
            None,
            f"RSS after: {rss_mb():.0f} MB",
        )
    )

    def report(done: int, todo: int) -> None:
        print(
            f"  embedded {done:,}/{todo:,} ({time.perf_counter() - t1:.0f} s, "
            f"load {os.getloadavg()[0]:.1f})",
            file=sys.stderr,
            flush=True,
        )

    t1 = time.perf_counter()
    secs, mb, X = sampled_peak_mb(
        lambda: embed_texts(texts, cache_dir=cache, batch_size=args.batch_size, progress=report)
    )
    rows.append(
        (
            f"embed {args.n:,} texts, empty cache",
            secs,
            mb,
            f"{args.n / secs:.0f} texts/s; batch {args.batch_size}; "
            f"output {X.nbytes / 2**20:.0f} MB",
        )
    )
    size = sum(f.stat().st_size for f in cache.iterdir()) / 2**20
    secs, mb, X2 = sampled_peak_mb(lambda: embed_texts(texts, cache_dir=cache))
    same = bool((X == X2).all())
    rows.append(
        (
            f"same {args.n:,} texts again (all cached)",
            secs,
            mb,
            f"cache on disk {size:.0f} MB; identical vectors: {same}",
        )
    )
    changed = list(texts)
    for i in range(0, args.n, 100):
        changed[i] = changed[i] + " (edited)"
    secs, mb, _ = sampled_peak_mb(lambda: embed_texts(changed, cache_dir=cache))
    rows.append((f"after 1 % of the texts changed ({args.n // 100:,} embedded)", secs, mb, ""))
    secs, mb, T = sampled_peak_mb(lambda: TextFeaturizer().fit_transform(texts))
    rows.append(
        (
            f"TF-IDF fit_transform of the {args.n:,} texts",
            secs,
            mb,
            f"{T.shape[1]:,} terms, {args.n / secs:.0f} texts/s",
        )
    )

    print("| task | seconds | peak extra RSS MB | note |")
    print("|---|---|---|---|")
    for task, s, m, note in rows:
        print(f"| {task} | {s:.1f} | {'-' if m is None else f'{m:.0f}'} | {note} |")
    print(f"\npeak RSS of the process {peak_rss_mb():.0f} MB; load at end {os.getloadavg()[0]:.1f}")
    if args.cache_dir is None:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
