"""Active-learning quality on real text: learning curves per strategy against random, per budget.

SMS spam, AG News (test split) and the YouTube spam comments (see ``benchmarks/al_data.py``),
featurized with sentence embeddings (default; cached on disk) or TF-IDF. Per data set and seed: a
stratified 20 % test split fixed for every strategy (paired comparison), the same 10 random
initial labels, then rounds chosen by the strategy with batches that grow with the labels
(10 up to 100 labels, 25 up to 300, 50 beyond) until the largest budget; after every round a
fresh classifier (``make_classifier()``: logistic regression) is scored on the test split.
The strategies never see the budget, so a budget's figures are the curve up to that budget:
area under the curve (mean accuracy over the label range), accuracy at the budget, and labels at
which the mean curve first reaches random's accuracy at that budget.

    .venv/bin/python benchmarks/al_quality_bench.py                     # 3 data sets, 5 seeds
    .venv/bin/python benchmarks/al_quality_bench.py --datasets youtube --seeds 2

Writes ``<out>/<name>_<featurizer>_curves.csv``, ``..._learning_curves.png`` and
``..._summary.json`` per data set, and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.al_data import DATASETS, features, load  # noqa: E402

SCHEDULE = [(100, 10), (300, 25), (10**9, 50)]


def budget_figures(curves: Any, budgets: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """Per budget and strategy: AUC of the mean curve up to the budget, accuracy at the budget
    (mean, std over seeds), labels to reach random's accuracy at the budget, saving vs random."""
    import numpy as np

    from active_learning.curves import area_under_curve, mean_curves

    means = mean_curves(curves)
    out: dict[int, dict[str, dict[str, Any]]] = {}
    for b in budgets:
        m = means[means["n_labels"] <= b]
        target = float(m[m["strategy"] == "random"]["mean"].iloc[-1])
        rows: dict[str, dict[str, Any]] = {}
        for name, c in m.groupby("strategy", sort=False):
            hit = c.loc[c["mean"] >= target - 1e-12, "n_labels"]
            need = int(hit.min()) if not hit.empty else None
            last = int(c["n_labels"].iloc[-1])
            rows[str(name)] = {
                "auc": round(area_under_curve(c["n_labels"].to_numpy(), c["mean"].to_numpy()), 4),
                "accuracy": round(float(c["mean"].iloc[-1]), 4),
                "accuracy_std": round(float(np.nan_to_num(c["std"].iloc[-1])), 4),
                "labels": last,
                "random_accuracy": round(target, 4),
                "labels_to_random": need,
                "saving": round(1.0 - need / last, 3) if need is not None else None,
            }
        out[b] = rows
    return out


def per_seed_auc(curves: Any, budget: int) -> dict[str, list[float]]:
    """AUC up to ``budget`` of every seed's curve, per strategy (for the spread)."""
    from active_learning.curves import area_under_curve

    out: dict[str, list[float]] = {}
    sub = curves[curves["n_labels"] <= budget]
    for (name, _seed), c in sub.groupby(["strategy", "seed"], sort=False):
        out.setdefault(str(name), []).append(
            round(area_under_curve(c["n_labels"].to_numpy(), c["accuracy"].to_numpy()), 4)
        )
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", default=",".join(DATASETS))
    p.add_argument("--strategies", default="random,margin,cluster,auto")
    p.add_argument("--featurizer", choices=["embeddings", "tfidf"], default="embeddings")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--budgets", default="100,300,1500")
    p.add_argument("--initial", type=int, default=10)
    p.add_argument("--out", type=Path, default=REPO / "benchmarks/results/al_quality")
    args = p.parse_args()

    from active_learning import modal_compat
    from active_learning.curves import plot_learning_curves
    from active_learning.simulation import simulate

    modal_compat.preload()
    strategies = args.strategies.split(",")
    budgets = sorted(int(b) for b in args.budgets.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    print(
        f"# {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    for name in args.datasets.split(","):
        texts, y = load(name)
        t0 = time.perf_counter()
        X = features(texts, args.featurizer)
        t1 = time.perf_counter()

        def progress(strategy: str, seed: int, done: int, _t: float = t1, _n: str = name) -> None:
            print(
                f"  {_n} seed {seed} {strategy:<13} {time.perf_counter() - _t:7.1f} s",
                file=sys.stderr,
                flush=True,
            )

        curves = simulate(
            X,
            y,
            strategies,
            budget=budgets[-1],
            batch_size=SCHEDULE,
            seeds=args.seeds,
            initial=args.initial,
            progress=progress,
        )
        t2 = time.perf_counter()
        stem = f"{name}_{args.featurizer}"
        figures = budget_figures(curves, budgets)
        seeds_auc = {b: per_seed_auc(curves, b) for b in budgets}
        curves.to_csv(args.out / f"{stem}_curves.csv", index=False)
        (args.out / f"{stem}_summary.json").write_text(
            json.dumps({"budgets": figures, "per_seed_auc": seeds_auc}, indent=1) + "\n"
        )
        png = plot_learning_curves(
            curves,
            args.out / f"{stem}_learning_curves.png",
            title=f"{name} ({args.featurizer}): {len(y)} rows, {args.seeds} seeds (mean +- std)",
        )
        if len(budgets) > 1:  # the cold start, zoomed in
            plot_learning_curves(
                curves[curves["n_labels"] <= budgets[-2]],
                args.out / f"{stem}_learning_curves_{budgets[-2]}.png",
                title=f"{name} ({args.featurizer}): the first {budgets[-2]} labels",
            )
        qs = curves.groupby("strategy")["query_s"].mean()
        print(
            f"\n### {name}: {len(y):,} rows, {len(set(y))} classes, {args.featurizer} "
            f"{X.shape[1]}-d, {args.seeds} seeds (features {t1 - t0:.1f} s, simulation "
            f"{t2 - t1:.0f} s)\n"
        )
        print(
            "| budget | strategy | AUC | accuracy at budget (mean ± std) | labels to "
            "random's accuracy at budget | fewer labels | AUC ≥ random in seeds | query s |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for b in budgets:
            rnd = seeds_auc[b].get("random")
            for s, r in figures[b].items():
                need = r["labels_to_random"]
                wins = (
                    f"{sum(a >= q for a, q in zip(seeds_auc[b][s], rnd, strict=True))}/{len(rnd)}"
                    if rnd
                    else "-"
                )
                saving = f"{r['saving']:.0%}" if r["saving"] is not None else "-"
                print(
                    f"| {b} | {s} | {r['auc']:.4f} | {r['accuracy']:.4f} ± "
                    f"{r['accuracy_std']:.4f} | {need if need is not None else 'not reached'} "
                    f"| {saving} | {wins} | {qs[s]:.3f} |"
                )
        print(f"\nplot: {png.relative_to(REPO) if png.is_relative_to(REPO) else png}", flush=True)


if __name__ == "__main__":
    main()
