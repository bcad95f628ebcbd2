"""Label propagation at scale: the k-means-cell kNN graph (``graph="ann"``) beside scikit-learn's
``LabelSpreading(kernel="knn")`` (``graph="exact"``) in the same run.

Usage: nice -n 10 .venv/bin/python benchmarks/ws_propagation_bench.py [--stage youtube|100k|1m]
       [--threads N]

Stages (each in its own process, so peak RSS is that stage's):
  youtube  the 1,956 UCI YouTube comments on the Snorkel tutorial split (as ws_quality_bench):
           seeds = valid's 120 human labels + label-model labels with p >= 0.7 on covered items;
           reach and accuracy on the comments no LF covers, exact vs ann graph.
  100k     100k synthetic texts (ws_speed_bench's: two real SMS/YouTube messages joined),
           TF-IDF, 5% seeds; propagate() with each graph: seconds, reach, agreement of the two.
  100k-ann the 100k stage with the ann graph only (when the exact graph does not fit the time).
  1m       the same on 1M texts, ann graph only: seconds and peak memory.
The last line of each stage is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

from benchmarks._common import SPACY21_VOTES, peak_rss_mb  # noqa: E402
from benchmarks.ws_quality_bench import propagation_inputs  # noqa: E402


def stage_youtube() -> dict:
    from weak_supervision.examples import youtube_spam as ys
    from weak_supervision.label_model import LabelModel
    from weak_supervision.propagation import propagate

    splits = ys.load_splits(DATA / "youtube_spam_uci")
    recorded = ys.recorded_person_votes(SPACY21_VOTES, splits)
    _, L = ys.vote_matrices(splits, recorded)
    y = {k: df["label"].to_numpy() for k, df in splits.items()}
    lm = LabelModel(2, n_epochs=500, seed=123).fit(L["train"])
    p_all = lm.predict_proba(np.vstack([L[k] for k in ("train", "valid", "test")]))
    texts, y_all, covered, seeds, X = propagation_inputs(splits, L, y, p_all)
    target = ~covered & (seeds < 0)
    out = {"items": len(texts), "seeds": int((seeds >= 0).sum()), "uncovered": int(target.sum())}
    for graph in ("exact", "ann"):
        t = time.perf_counter()
        probs = propagate(X, seeds, 2, n_neighbors=10, graph=graph)
        reached = target & (probs.sum(axis=1) > 0)
        out[graph] = {
            "seconds": round(time.perf_counter() - t, 3),
            "reached": int(reached.sum()),
            "accuracy_uncovered": round(
                100 * float((probs[reached].argmax(axis=1) == y_all[reached]).mean()), 1
            ),
        }
    out["majority_class_uncovered"] = round(
        100 * float((y_all[target] == np.bincount(y["valid"]).argmax()).mean()), 1
    )
    return out


def _texts_and_seeds(n: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from benchmarks.ws_speed_bench import load_texts

    df = load_texts(max(n, 100_000)).iloc[:n]
    t = time.perf_counter()
    X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(df["text"])
    tfidf_seconds = time.perf_counter() - t
    rng = np.random.default_rng(0)
    spam_words = df["text"].str.contains("free|win|prize|call|txt|subscribe|check", case=False)
    seeds = np.where(rng.random(n) < 0.05, spam_words.astype(int).to_numpy(), -1)
    return X, seeds, tfidf_seconds, spam_words.astype(int).to_numpy()


#: threads for the ann graph's cell scan (and faiss); ``--threads``, default all cores
THREADS: int | None = None


def _ann_parts(X, seeds: np.ndarray) -> tuple[np.ndarray, dict]:
    """propagate(graph="ann") step by step (the same calls), wall and CPU seconds per step."""
    from weak_supervision.propagation import (
        ANN_SVD_ITER,
        ann_knn_graph,
        reduce_features,
        spread_on_graph,
    )

    parts, clock = {}, (time.perf_counter(), time.process_time())

    def lap(name: str) -> None:
        nonlocal clock
        now = (time.perf_counter(), time.process_time())
        parts[name] = {"wall_s": round(now[0] - clock[0], 2), "cpu_s": round(now[1] - clock[1], 2)}
        clock = now

    Z = reduce_features(X, 100, dtype=np.float32, n_iter=ANN_SVD_ITER)
    lap("svd")
    graph = ann_knn_graph(Z, 10, n_threads=THREADS)
    lap("graph_ivf")
    classes, dist = spread_on_graph(graph, seeds)
    lap("spread")
    probs = np.zeros((len(seeds), 2))
    probs[:, classes.astype(int)] = dist
    parts["total"] = {k: round(sum(p[k] for p in parts.values()), 2) for k in ("wall_s", "cpu_s")}
    return probs, parts


def stage_scale(n: int, graphs: tuple[str, ...]) -> dict:
    from weak_supervision.propagation import propagate

    X, seeds, tfidf_seconds, keyword = _texts_and_seeds(n)
    out: dict = {
        "items": n,
        "seeds": int((seeds >= 0).sum()),
        "tfidf_seconds": round(tfidf_seconds, 1),
        "load_start": round(os.getloadavg()[0], 1),
    }
    preds = {}
    for graph in graphs:
        t, cpu = time.perf_counter(), time.process_time()
        if graph == "ann":
            probs, parts = _ann_parts(X, seeds)
        else:
            probs, parts = propagate(X, seeds, 2, n_neighbors=10, graph=graph), {}
        seconds, cpu_seconds = time.perf_counter() - t, time.process_time() - cpu
        reached = probs.sum(axis=1) > 0
        unseeded = reached & (seeds < 0)
        preds[graph] = np.where(reached, probs.argmax(axis=1), -1)
        out[graph] = {
            "seconds": round(seconds, 1),
            "cpu_seconds": round(cpu_seconds, 1),
            "parts": parts,
            "reached": round(float(reached.mean()), 4),
            # the keyword rule that made the seeds, on the items that were not seeds
            "agrees_with_keyword_rule": round(
                100 * float((preds[graph][unseeded] == keyword[unseeded]).mean()), 2
            ),
            "peak_mb_so_far": round(peak_rss_mb()),
        }
    if len(preds) == 2:
        both = (preds["exact"] >= 0) & (preds["ann"] >= 0)
        out["same_label_exact_vs_ann"] = round(
            100 * float((preds["exact"][both] == preds["ann"][both]).mean()), 2
        )
    out["peak_mb"] = round(peak_rss_mb())
    out["ru_maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out["threads"] = THREADS or os.cpu_count()
    out["load_end"] = round(os.getloadavg()[0], 1)
    return out


STAGES = {
    "youtube": stage_youtube,
    "100k": lambda: stage_scale(100_000, ("ann", "exact")),
    "100k-ann": lambda: stage_scale(100_000, ("ann",)),
    "1m": lambda: stage_scale(1_000_000, ("ann",)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stage", choices=list(STAGES))
    parser.add_argument("--threads", type=int, help="ann graph threads (default: all cores)")
    args = parser.parse_args()
    global THREADS
    THREADS = args.threads
    if args.stage:
        print(json.dumps(STAGES[args.stage]()), flush=True)
        return
    results = {}
    for stage in ("youtube", "100k", "1m"):
        cmd = [sys.executable, __file__, "--stage", stage]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"stage {stage} failed:\n{done.stderr}")
        results[stage] = json.loads(done.stdout.strip().splitlines()[-1])
        print(stage, json.dumps(results[stage]), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
