"""Active-learning quality on real text: learning curves of every strategy against random.

SMS spam (5,574 messages, 2 classes, 13 % spam) and AG News test split (7,600 news, 4 classes),
from ../shared/data/text_classification. For each data set and seed: a stratified 20 % test
split, ``batch`` random initial labels, then rounds of ``batch`` labels chosen by the strategy
until ``budget`` labels (the gold labels are the oracle); test accuracy after every round.

    .venv/bin/python benchmarks/al_quality_bench.py            # both data sets, 5 seeds
    .venv/bin/python benchmarks/al_quality_bench.py --datasets sms --seeds 2

Writes, per data set, ``<out>/<name>_curves.csv``, ``<out>/<name>_learning_curves.png`` and
``<out>/<name>_summary.json``, and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("LABELAPP_SHARED_DATA", REPO.parent / "shared" / "data"))


def load(name: str, max_rows: int | None, seed: int = 0):  # noqa: ANN201
    import numpy as np
    import pandas as pd

    if name == "sms":
        df = pd.read_csv(
            DATA / "text_classification/sms_spam_uci/SMSSpamCollection",
            sep="\t", header=None, names=["label", "text"], quoting=3,
        )
    elif name == "ag_news":
        df = pd.read_csv(
            DATA / "text_classification/ag_news_test/test.csv",
            header=None, names=["label", "title", "description"],
        )
        df["text"] = df["title"] + ". " + df["description"]
    else:
        raise SystemExit(f"unknown data set {name!r}; use sms or ag_news")
    if max_rows and max_rows < len(df):
        df = df.sample(n=max_rows, random_state=seed).reset_index(drop=True)
    return df["text"].tolist(), np.asarray(df["label"])


def main() -> None:
    from active_learning.strategies import STRATEGIES

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default="sms,ag_news")
    p.add_argument("--strategies", default=",".join(STRATEGIES))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--sms-budget", type=int, default=400)
    p.add_argument("--sms-batch", type=int, default=20)
    p.add_argument("--ag-budget", type=int, default=2500)
    p.add_argument("--ag-batch", type=int, default=50)
    p.add_argument("--max-rows", type=int, default=0, help="subsample each data set (0: all)")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks/results/active_learning")
    args = p.parse_args()

    from active_learning import modal_compat
    from active_learning.curves import plot_learning_curves, summarize
    from active_learning.featurize import featurize_texts
    from active_learning.simulation import simulate

    modal_compat.preload()  # so the first margin query's time is not modAL's import

    strategies = args.strategies.split(",")
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"# {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}, "
          f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}")
    for name in args.datasets.split(","):
        budget, batch = (
            (args.sms_budget, args.sms_batch) if name == "sms" else (args.ag_budget, args.ag_batch)
        )
        texts, y = load(name, args.max_rows or None)
        t0 = time.perf_counter()
        X = featurize_texts(texts)
        t1 = time.perf_counter()

        def progress(strategy: str, seed: int, done: int, _t: float = t1, _n: str = name) -> None:
            print(f"  {_n} seed {seed} {strategy:<17} {time.perf_counter() - _t:7.1f} s",
                  file=sys.stderr, flush=True)

        curves = simulate(
            X, y, strategies, budget=budget, batch_size=batch, seeds=args.seeds,
            progress=progress,
        )
        t2 = time.perf_counter()
        summary = summarize(curves)
        curves.to_csv(args.out / f"{name}_curves.csv", index=False)
        (args.out / f"{name}_summary.json").write_text(json.dumps(summary, indent=1) + "\n")
        png = plot_learning_curves(
            curves, args.out / f"{name}_learning_curves.png",
            title=f"{name}: {len(y)} rows, batch {batch}, {args.seeds} seeds (mean +- std)",
        )
        qs = curves.groupby("strategy")["query_s"].mean()
        print(f"\n## {name}: {len(y)} rows, {X.shape[1]} TF-IDF terms, budget {budget}, "
              f"batch {batch}, {args.seeds} seeds (featurize {t1 - t0:.1f} s, "
              f"simulate {t2 - t1:.0f} s, load at end {os.getloadavg()[0]:.1f})\n")
        print("| strategy | final acc (mean +- std) | AUC | labels to random's final acc "
              "| fewer labels than random | mean query s |")
        print("|---|---|---|---|---|---|")
        for s, r in sorted(summary.items(), key=lambda kv: -kv[1]["auc"]):
            need = r["labels_to_target"]
            saving = r["label_saving_vs_random"]
            print(f"| {s} | {r['final_accuracy']:.4f} +- {r['final_accuracy_std']:.4f} | "
                  f"{r['auc']:.4f} | {need if need is not None else 'not reached'} | "
                  f"{f'{saving:.0%}' if saving is not None else '-'} | {qs[s]:.3f} |")
        print(f"\ntarget = random's final mean accuracy {summary['random']['target_accuracy']:.4f}"
              if "random" in summary else "")
        print(f"plot: {png.relative_to(REPO) if png.is_relative_to(REPO) else png}")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
