"""Export speed: N labeled text items with splits to Parquet / JSONL / ... (items/s, peak RSS).

    .venv/bin/python benchmarks/export_bench.py --n 1000000 --formats parquet,jsonl
    .venv/bin/python benchmarks/export_bench.py --n 100000 --formats label_studio

Items are synthetic but shaped like a real project: texts of 10-50 words drawn from the AG News
vocabulary with its word frequencies, 1 % exact and 1 % near duplicates, a group key shared by
about 5 items, 30 % labels from a label model (confidence 0.5-1), and a small metadata dict.
Each format runs in a fresh process, so its peak memory is its own; building the items is not
timed. Target (issue 7): 1M items with splits in under 30 s per format on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
AG_NEWS = REPO.parent / "shared" / "data" / "text_classification" / "ag_news_test" / "test.csv"


def make_items(n: int, seed: int = 0) -> pd.DataFrame:
    """N items: text, label (4 classes), group key, label source, confidence, metadata."""
    ag = pd.read_csv(AG_NEWS, header=None, names=["label", "title", "description"])
    words = (ag["title"] + " " + ag["description"]).str.split().explode()
    frequency = words.value_counts()
    vocabulary = frequency.index.to_numpy(dtype=object)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(10, 51, n)
    tokens = vocabulary[
        rng.choice(len(vocabulary), lengths.sum(), p=frequency.to_numpy() / len(words))
    ]
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(tokens, type=pa.string()))
    texts = pc.binary_join(lists.cast(pa.list_(pa.string())), " ").to_numpy(zero_copy_only=False)
    texts = texts.astype(object)
    copies = rng.choice(n, size=n // 50, replace=False)
    exact, near = copies[: n // 100], copies[n // 100 :]
    texts[exact] = texts[rng.integers(0, n, len(exact))]
    texts[near] = [t + " update" for t in texts[rng.integers(0, n, len(near))]]
    weak = rng.random(n) < 0.3
    # The app stores a sha256 per item (Item.content_hash); the export gets it from there.
    content_hash = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
    return pd.DataFrame(
        {
            "item_id": np.arange(n),
            "label": rng.choice(np.array(["World", "Sports", "Business", "Sci/Tech"]), n),
            "label_source": np.where(weak, "label_model", "human"),
            "confidence": np.where(weak, rng.uniform(0.5, 1.0, n), 1.0),
            "group_key": [f"author-{g}" for g in rng.integers(0, n // 5, n)],
            "text": texts,
            "content_hash": content_hash,
            "metadata": [{"feed": int(f)} for f in rng.integers(0, 20, n)],
        }
    )


def run_one(n: int, fmt: str, near: float | None) -> dict:
    """Build the items, then time one export (splits included) in this process."""
    from labelapp.export import write_export

    items = make_items(n)
    marks: dict[tuple[str, int], float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        marks.setdefault((stage, 0 if done == 0 else 1), time.perf_counter())

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as out:
        start, cpu = time.perf_counter(), time.process_time()
        result = write_export(
            items,
            fmt,
            out,
            seed=0,
            min_confidence=0.7,
            near_duplicate_threshold=near,
            progress=progress,
            code_version="bench",
        )
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu
        size = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
    end = start + seconds
    stages = {
        "splits": marks[("splits", 1)] - marks[("splits", 0)],
        "rows+prepare": marks[("write", 0)] - marks[("splits", 1)],
        "write": marks[("manifest", 0)] - marks[("write", 0)],
        "manifest": end - marks[("manifest", 0)],
    }
    stages = {k: round(v, 2) for k, v in stages.items()}
    return {
        "format": fmt,
        "near_duplicate_threshold": near,
        "items": n,
        "rows": result.manifest["n_rows"],
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "items_per_s": round(n / seconds),
        "stages": stages,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_before_export_mb": round(base_rss / 1024),
        "output_mb": round(size / 2**20, 1),
        "chi2_p": result.report.chi2_p_value,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--formats", default="parquet,jsonl")
    parser.add_argument(
        "--near",
        default="0.7",
        help="near-duplicate threshold, or 'none' for exact duplicates only",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        near = None if args.near.lower() == "none" else float(args.near)
        print(json.dumps(run_one(args.n, args.one, near)))
        return
    print(f"load average before: {os.getloadavg()}")
    for fmt in args.formats.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--n", str(args.n), "--near", args.near, "--one", fmt],
            check=True,
            capture_output=True,
            text=True,
        )
        print(done.stdout.strip().splitlines()[-1], flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
