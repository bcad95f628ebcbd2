"""Weak-supervision speed and memory: LF applier, Dask applier, label model, label spreading.

Usage: nice -n 5 .venv/bin/python benchmarks/ws_speed_bench.py [--n 1000000] [--snorkel-n N]

Every stage runs in its own subprocess so its peak RSS (ru_maxrss) is its own:
  applier        20 keyword/regex LFs over --n texts: ours (apply_lfs). "cold" is the first call
                 in the fresh process, timed from importing weak_supervision (the texts are
                 already loaded, as for Snorkel); "warm" is the best of --repeat later calls
  snorkel        the same LFs through Snorkel's PandasLFApplier on the first --snorkel-n texts
                 (default: all --n, ~200 s for 1M; a smaller value is extrapolated linearly and
                 says so); every vote compared with ours
  dask           apply_lfs_dask on a 2-worker LocalCluster (start-up timed separately)
  lm_ours/lm_snorkel  label model fit + predict on --n x 50 synthetic votes (known truth)
  spreading      propagate() on 100k texts (TF-IDF -> SVD(100) -> 10-NN graph)
Texts: pairs of real messages (UCI SMS spam + YouTube spam comments) joined by a space, so
almost every text is distinct. Results print as JSON lines; the last line is a summary.
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
CACHE = Path("/tmp/labelapp_ws_bench")

LF_SPECS = [
    *[
        {"kind": "keyword", "name": f"kw_{i}", "label": label, "keywords": kws}
        for i, (kws, label) in enumerate(
            [
                (["free"], 1),
                (["win", "won", "prize"], 1),
                (["call now", "txt"], 1),
                (["subscribe"], 1),
                (["check out"], 1),
                (["http", "www"], 1),
                (["please", "plz"], 1),
                (["song"], 0),
                (["love"], 0),
                (["cash", "£"], 1),
                (["urgent"], 1),
                (["claim"], 1),
            ]
        )
    ],
    {"kind": "regex", "name": "re_digits", "label": 1, "pattern": r"\b\d{5,}\b"},
    {
        "kind": "regex",
        "name": "re_check_out",
        "label": 1,
        "pattern": "check.*out",
        "ignore_case": True,
    },
    {
        "kind": "regex",
        "name": "re_my_channel",
        "label": 1,
        "pattern": r"\bmy (channel|video|page)\b",
        "ignore_case": True,
    },
    {"kind": "regex", "name": "re_url", "label": 1, "pattern": r"https?://\S+"},
    {"kind": "regex", "name": "re_caps", "label": 1, "pattern": r"[A-Z]{4,}"},
    {"kind": "regex", "name": "re_bangs", "label": 1, "pattern": r"!{2,}"},
    {"kind": "regex", "name": "re_txt_speak", "label": 0, "pattern": r"\b(u|ur|r)\b"},
    {"kind": "regex", "name": "re_pounds", "label": 1, "pattern": r"£\d+"},
]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def texts_path(n: int) -> Path:
    """Write (once) ``n`` texts, each two real messages joined, to a Parquet file."""
    import pandas as pd

    path = CACHE / f"texts_{n}.parquet"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    sms = [
        line.split("\t", 1)[1].rstrip("\n")
        for line in (DATA / "text_classification/sms_spam_uci/SMSSpamCollection").open(
            encoding="utf-8"
        )
    ]
    yt = pd.concat(
        [pd.read_csv(f) for f in sorted((DATA / "youtube_spam_uci").glob("Youtube0*.csv"))]
    )["CONTENT"].tolist()
    pool = np.array(sms + yt, dtype=object)
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, len(pool), (2, n))
    texts = [x + " " + y for x, y in zip(pool[a], pool[b], strict=True)]
    pd.DataFrame({"text": pd.Series(texts, dtype="str")}).to_parquet(path)
    return path


def load_texts(n: int):
    import pandas as pd

    return pd.read_parquet(texts_path(n))


def stage_applier(args: argparse.Namespace) -> dict:
    df = load_texts(args.n)
    t, cpu = time.perf_counter(), time.process_time()
    from weak_supervision.apply import apply_lfs
    from weak_supervision.lfs import lfs_from_specs

    lfs = lfs_from_specs(LF_SPECS)
    L = apply_lfs(lfs, df)  # cold: imports, hazard tables, first Arrow allocations
    cold = (time.perf_counter() - t, time.process_time() - cpu)
    np.save(CACHE / f"votes_ours_{args.n}.npy", L)
    runs = []
    for _ in range(args.repeat):
        t, cpu = time.perf_counter(), time.process_time()
        again = apply_lfs(lfs, df)
        runs.append((time.perf_counter() - t, time.process_time() - cpu))
        if not np.array_equal(again, L):
            raise SystemExit("apply_lfs gave different votes on a repeated call")
    seconds, cpu = min(runs)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "cold_seconds": cold[0],
        "cold_cpu_seconds": cold[1],
        "warm_runs_seconds": [round(r[0], 3) for r in runs],
        "coverage": float((L >= 0).any(axis=1).mean()),
        "nonascii_share": float(1 - df["text"].map(str.isascii).mean()),
    }


def stage_snorkel(args: argparse.Namespace) -> dict:
    from snorkel.labeling import PandasLFApplier

    from weak_supervision.lfs import lfs_from_specs

    df = load_texts(args.n).iloc[: args.snorkel_n]
    lfs = [lf.to_snorkel() for lf in lfs_from_specs(LF_SPECS)]
    t, cpu = time.perf_counter(), time.process_time()
    L = PandasLFApplier(lfs).apply(df, progress_bar=False)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    ours = np.load(CACHE / f"votes_ours_{args.n}.npy")[: len(df)]
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "rows": len(df),
        "votes_compared": int(L.size),
        "identical_votes": bool(ours.shape == L.shape and (ours == L).all()),
        "mismatches": int((ours != L).sum()),
    }


def stage_dask(args: argparse.Namespace) -> dict:
    from distributed import Client, LocalCluster

    from weak_supervision.apply import apply_lfs_dask
    from weak_supervision.lfs import lfs_from_specs

    df = load_texts(args.n)
    lfs = lfs_from_specs(LF_SPECS)
    t = time.perf_counter()
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        startup = time.perf_counter() - t
        t = time.perf_counter()
        L = apply_lfs_dask(lfs, df, client=client, npartitions=8)
        seconds = time.perf_counter() - t
        worker_peak = (
            max(w["metrics"]["memory"] for w in client.scheduler_info()["workers"].values()) / 2**20
        )
    ours = np.load(CACHE / f"votes_ours_{args.n}.npy")
    return {
        "seconds": seconds,
        "cluster_start_seconds": startup,
        "identical_to_pandas_path": bool((ours == L).all()),
        "worker_memory_mb_at_end": worker_peak,
    }


def synthetic_votes(n: int, m: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Truth y (balanced classes) and m one-sided LFs (like keyword LFs) with precision 0.6-0.95:
    LF j votes class c = j % 2; it fires on a share r of class-c items and on a share s of the
    others, s chosen so that P(y = c | it fires) is its precision."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.5).astype(np.int8)
    L = np.full((n, m), -1, dtype=np.int8)
    for j in range(m):
        c = j % 2
        p_c = 0.5
        precision, r = rng.uniform(0.6, 0.95), rng.uniform(0.05, 0.4)
        s = min(1.0, r * p_c * (1 - precision) / (precision * (1 - p_c)))
        fires = rng.random(n) < np.where(y == c, r, s)
        L[fires, j] = c
    return L, y


def stage_lm(args: argparse.Namespace, ours: bool) -> dict:
    from weak_supervision.majority import probs_to_preds

    L, y = synthetic_votes(args.n)
    t = time.perf_counter()
    if ours:
        from weak_supervision.label_model import LabelModel

        model = LabelModel(2).fit(L)
        probs = model.predict_proba(L)
    else:
        from snorkel.labeling.model import LabelModel as SnorkelLabelModel

        model = SnorkelLabelModel(cardinality=2, verbose=False)
        L64 = L.astype(np.int64)
        model.fit(L64, n_epochs=500, lr=0.01, seed=123, progress_bar=False)
        probs = model.predict_proba(L64)
    seconds = time.perf_counter() - t
    np.save(CACHE / f"lm_probs_{'ours' if ours else 'snorkel'}_{args.n}.npy", probs[:, 1])
    return {
        "seconds": seconds,
        "accuracy": float((probs_to_preds(probs) == y).mean()),
        "n_distinct_patterns": model.n_patterns if ours else None,
    }


def stage_spreading(args: argparse.Namespace) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from weak_supervision.propagation import propagate

    n = 100_000
    df = load_texts(max(args.n, n)).iloc[:n]
    X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(df["text"])
    rng = np.random.default_rng(0)
    spam_words = df["text"].str.contains("free|win|prize|call|txt|subscribe|check", case=False)
    seeds = np.where(rng.random(n) < 0.05, spam_words.astype(int).to_numpy(), -1)
    t = time.perf_counter()
    probs = propagate(X, seeds, 2, n_neighbors=10)
    seconds = time.perf_counter() - t
    return {
        "seconds": seconds,
        "items": n,
        "seeds": int((seeds >= 0).sum()),
        "reached": float((probs.sum(axis=1) > 0).mean()),
        "graph_edges": n * 10,
    }


STAGES = {
    "applier": stage_applier,
    "snorkel": stage_snorkel,
    "dask": stage_dask,
    "lm_ours": lambda a: stage_lm(a, ours=True),
    "lm_snorkel": lambda a: stage_lm(a, ours=False),
    "spreading": stage_spreading,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--snorkel-n", type=int, default=None, help="default: --n")
    parser.add_argument("--repeat", type=int, default=3, help="applier runs (best is kept)")
    parser.add_argument("--stage", choices=list(STAGES))
    parser.add_argument("--stages", default=",".join(STAGES))
    args = parser.parse_args()
    args.snorkel_n = args.n if args.snorkel_n is None else min(args.snorkel_n, args.n)
    if args.stage:  # child: run one stage, print its JSON
        result = STAGES[args.stage](args)
        result.update(stage=args.stage, peak_rss_mb=round(peak_mb(), 1))
        print(json.dumps(result))
        return
    texts_path(args.n)
    load_at_start = os.getloadavg()
    results = {}
    for stage in args.stages.split(","):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--stage",
                stage,
                "--n",
                str(args.n),
                "--snorkel-n",
                str(args.snorkel_n),
                "--repeat",
                str(args.repeat),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"stage {stage} failed")
        results[stage] = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(results[stage]), flush=True)
    summary = {"load_average_at_start": load_at_start, "load_average_at_end": os.getloadavg()}
    if "applier" in results and "snorkel" in results:
        ours, theirs = results["applier"], results["snorkel"]
        scale = args.n / theirs["rows"]
        snorkel_full = theirs["seconds"] * scale
        snorkel_cpu = theirs["cpu_seconds"] * scale
        summary["snorkel_seconds_for_n"] = round(snorkel_full, 1)
        summary["snorkel_extrapolated"] = scale != 1
        summary["votes_identical"] = theirs["identical_votes"]
        summary["votes_compared"] = theirs["votes_compared"]
        summary["applier_speedup_warm"] = round(snorkel_full / ours["seconds"], 1)
        summary["applier_speedup_cold"] = round(snorkel_full / ours["cold_seconds"], 1)
        summary["applier_speedup_cpu_warm"] = round(snorkel_cpu / ours["cpu_seconds"], 1)
        summary["applier_speedup_cpu_cold"] = round(snorkel_cpu / ours["cold_cpu_seconds"], 1)
    if "lm_ours" in results and "lm_snorkel" in results:
        a = np.load(CACHE / f"lm_probs_ours_{args.n}.npy")
        b = np.load(CACHE / f"lm_probs_snorkel_{args.n}.npy")
        summary["lm_max_prob_diff"] = float(np.abs(a - b).max())
    print(json.dumps({"summary": summary}))


if __name__ == "__main__":
    main()
