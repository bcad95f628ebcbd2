"""Summaries and plots of simulated learning curves (see :mod:`active_learning.simulation`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def mean_curves(curves: pd.DataFrame, metric: str = "accuracy") -> pd.DataFrame:
    """Mean and standard deviation of ``metric`` over seeds, per strategy and number of labels."""
    if curves.empty:
        raise ValueError("No learning curves to summarise: the simulation produced no rows.")
    g = curves.groupby(["strategy", "n_labels"], sort=False)[metric]
    out = g.agg(["mean", "std", "count"]).reset_index()
    order = {name: i for i, name in enumerate(dict.fromkeys(curves["strategy"]))}
    out["_order"] = out["strategy"].map(order)  # strategies in the order they were run
    out = out.sort_values(["_order", "n_labels"], kind="stable").drop(columns="_order")
    return out.reset_index(drop=True)


def default_target(means: pd.DataFrame) -> float:
    """Random's final mean accuracy when random ran (the bar to beat), else the lowest final
    mean accuracy of the strategies (the level every one of them reached)."""
    finals = means.groupby("strategy", sort=False)["mean"].last()
    return float(finals["random"]) if "random" in finals.index else float(finals.min())


def labels_to_reach(means: pd.DataFrame, target: float) -> dict[str, int | None]:
    """Per strategy, the fewest labels at which the mean curve reaches ``target`` (None: never)."""
    out: dict[str, int | None] = {}
    for name, c in means.groupby("strategy", sort=False):
        hit = c.loc[c["mean"] >= target - 1e-12, "n_labels"]
        out[str(name)] = int(hit.min()) if not hit.empty else None
    return out


def area_under_curve(n_labels: np.ndarray, values: np.ndarray) -> float:
    """Area under a learning curve divided by its width: the mean accuracy over the label range
    (1 = perfect from the first label). A single point gives that point's value."""
    n = np.asarray(n_labels, dtype=float)
    v = np.asarray(values, dtype=float)
    if n.shape[0] < 2 or n[-1] == n[0]:
        return float(v[-1])
    return float(np.trapezoid(v, n) / (n[-1] - n[0]))


def summarize(curves: pd.DataFrame, target: float | None = None) -> dict[str, dict[str, Any]]:
    """Per strategy: final mean (and std) accuracy, normalised AUC, labels to reach ``target``
    and the saving in labels against random: ``1 - labels_to_target / labels random used``
    (with the default target, "reaches random's final accuracy with X % fewer labels")."""
    means = mean_curves(curves)
    target = default_target(means) if target is None else float(target)
    needed = labels_to_reach(means, target)
    finals = means.groupby("strategy")["n_labels"].max()
    base = int(finals["random"]) if "random" in finals.index else None
    out: dict[str, dict[str, Any]] = {}
    for name, c in means.groupby("strategy", sort=False):
        name = str(name)
        n_need = needed[name]
        out[name] = {
            "final_accuracy": round(float(c["mean"].iloc[-1]), 4),
            "final_accuracy_std": round(float(np.nan_to_num(c["std"].iloc[-1])), 4),
            "auc": round(area_under_curve(c["n_labels"].to_numpy(), c["mean"].to_numpy()), 4),
            "final_labels": int(c["n_labels"].iloc[-1]),
            "target_accuracy": round(target, 4),
            "labels_to_target": n_need,
            "label_saving_vs_random": (
                round(1.0 - n_need / base, 3) if base and n_need is not None else None
            ),
        }
    return out


def plot_learning_curves(
    curves: pd.DataFrame, path: str | Path, *, title: str = "", target: float | None = None
) -> Path:
    """Mean accuracy per strategy (band: +-1 std over seeds) against labels, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    means = mean_curves(curves)
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for name, c in means.groupby("strategy", sort=False):
        x, m, s = c["n_labels"], c["mean"], np.nan_to_num(c["std"].to_numpy())
        style = {"color": "black", "linestyle": "--", "linewidth": 2} if name == "random" else {}
        line = ax.plot(x, m, label=str(name), **style)[0]
        ax.fill_between(x, m - s, m + s, color=line.get_color(), alpha=0.12, linewidth=0)
    if target is None:
        target = default_target(means)
    ax.axhline(target, color="grey", linewidth=0.8, linestyle=":", label=f"target {target:.3f}")
    n_seeds = curves["seed"].nunique()
    ax.set_xlabel("human labels")
    ax.set_ylabel("test accuracy")
    ax.set_title(title or f"learning curves ({n_seeds} seeds, mean +- std)")
    lo = float(np.quantile(means["mean"], 0.05))
    ax.set_ylim(max(0.0, lo - 0.02), min(1.0, float(means["mean"].max()) + 0.02))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, ncol=2)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
