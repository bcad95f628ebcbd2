"""Does the label-issue job find wrong labels? Ours against cleanlab on the same probabilities.

Per data set (SMS spam, AG News test split, YouTube comments from ../shared/data): a stratified
80/20 split; the 80 % part gets 5, 10 and 20 % of its gold labels flipped, uniformly (a random
other class) or class-conditionally (per-class flip rates drawn from U(0.25, 1.75) x rate, at
most 45 % of a class, and a fixed random Dirichlet(0.5) choice of wrong class per true class,
i.e. some confusions are far likelier than others). Out-of-sample probabilities of the noisy
labels: :func:`active_learning.label_issues.out_of_sample_probs` (5-fold, default estimator) on
TF-IDF. Ours: :func:`detect_label_issues` on them; peer: cleanlab's ``find_label_issues``
(default ``prune_by_noise_rate``, and ``both``) and ``get_label_quality_scores`` (default
self-confidence, for its ranking) on the very same arrays. cleanlab is AGPL, so it is never
imported here: it runs in its own virtual environment through a subprocess::

    python3 -m venv /work/cleanlab-venv
    /work/cleanlab-venv/bin/pip install cleanlab scikit-learn numpy pandas
    nice -n 19 .venv/bin/python benchmarks/label_issues_bench.py \\
        --cleanlab-python /work/cleanlab-venv/bin/python

Metrics against the flipped set: precision, recall, F1 of the flagged items, and precision at k
(k = number of flips) of the ranking. Review recovery: the end model (``make_classifier()``)
trained on the 80 % part after a reviewer fixes the top-ranked 100, 200, ... items with their
gold label (ours, cleanlab's ranking, and random items, mean of 3 draws), scored on the clean
20 % test part. Speed: ``--speed-n`` synthetic short texts (AG News texts with 25 % of their
words dropped), 10 % flipped: TF-IDF, the 5-fold probabilities, near-duplicate pairs and the
detection, timed separately.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.al_data import load, synthetic_texts  # noqa: E402

OUT = REPO / "benchmarks" / "results" / "label_issues"

CLEANLAB_CODE = r"""
import json, sys, time
import numpy as np
from cleanlab.filter import find_label_issues
from cleanlab.rank import get_label_quality_scores
import cleanlab
data = np.load(sys.argv[1])
out, seconds = {}, {}
for key in data.files:
    if not key.startswith("probs__"):
        continue
    name = key[len("probs__"):]
    P, y = data[key], data["labels__" + name]
    t0 = time.perf_counter()
    out["mask__" + name] = find_label_issues(y, P, n_jobs=1)
    seconds[name] = time.perf_counter() - t0
    out["both__" + name] = find_label_issues(y, P, filter_by="both", n_jobs=1)
    out["quality__" + name] = get_label_quality_scores(y, P)
np.savez(sys.argv[2], **out)
print(json.dumps({"version": cleanlab.__version__, "seconds": seconds}))
"""


def flip_labels(y: np.ndarray, K: int, rate: float, kind: str, seed: int) -> np.ndarray:
    """A copy of ``y`` with round(rate * n) labels changed (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = len(y)
    m = int(round(rate * n))
    noisy = y.copy()
    if kind == "uniform":
        idx = rng.choice(n, m, replace=False)
        noisy[idx] = (y[idx] + rng.integers(1, K, m)) % K
        return noisy
    counts = np.bincount(y, minlength=K)
    target = rng.uniform(0.25, 1.75, K) * counts
    target = target / target.sum() * m
    room = np.floor(0.45 * counts).astype(int)
    take = np.zeros(K, dtype=int)
    for _ in range(m):
        gap = np.where(take < room, target - take, -np.inf)
        take[int(np.argmax(gap))] += 1
    for i in range(K):
        members = np.flatnonzero(y == i)
        idx = rng.choice(members, take[i], replace=False)
        others = np.array([j for j in range(K) if j != i])
        dest = rng.dirichlet(np.full(K - 1, 0.5))
        noisy[idx] = rng.choice(others, take[i], p=dest)
    return noisy


def scores(mask: np.ndarray, ranking: np.ndarray, flipped: np.ndarray) -> dict[str, float]:
    tp = int((mask & flipped).sum())
    p = tp / max(int(mask.sum()), 1)
    r = tp / max(int(flipped.sum()), 1)
    k = int(flipped.sum())
    return {
        "flagged": int(mask.sum()),
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "p_at_k": float(flipped[ranking[:k]].mean()),
    }


def run_cleanlab(python: str, arrays: dict[str, np.ndarray]) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, **arrays)
        done = subprocess.run(
            ["nice", "-n", "19", python, "-c", CLEANLAB_CODE, str(src), str(dst)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise SystemExit(f"cleanlab subprocess failed:\n{done.stderr}")
        out = np.load(dst)
        return {k: out[k] for k in out.files}, json.loads(done.stdout.strip().splitlines()[-1])


def recovery(
    X_tr: Any,
    y_true: np.ndarray,
    noisy: np.ndarray,
    X_te: Any,
    y_te: np.ndarray,
    orders: dict[str, np.ndarray],
    steps: list[int],
    seed: int,
) -> dict[str, list[float]]:
    """Test accuracy of the end model after fixing the first m items of each order."""
    from active_learning.models import make_classifier

    def accuracy(labels: np.ndarray) -> float:
        model = make_classifier().fit(X_tr, labels)
        return float((model.predict(X_te) == y_te).mean())

    curves: dict[str, list[float]] = {}
    for name, order in orders.items():
        curve = []
        for m in steps:
            fixed = noisy.copy()
            fixed[order[:m]] = y_true[order[:m]]
            curve.append(accuracy(fixed))
        curves[name] = curve
    rng = np.random.default_rng(seed)
    draws = [rng.permutation(len(noisy)) for _ in range(3)]
    curves["random"] = [
        float(
            np.mean(
                [
                    accuracy(np.where(np.isin(np.arange(len(noisy)), d[:m]), y_true, noisy))
                    for d in draws
                ]
            )
        )
        for m in steps
    ]
    return curves


def quality(args: argparse.Namespace) -> dict[str, Any]:
    from sklearn.model_selection import train_test_split

    from active_learning.label_issues import detect_label_issues, out_of_sample_probs
    from active_learning.text_features import TextFeaturizer

    configs, arrays = [], {}
    for ds in args.datasets:
        texts, gold = load(ds)
        classes, y = np.unique(gold, return_inverse=True)
        K = len(classes)
        X = TextFeaturizer().fit_transform(texts)
        tr, te = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=0)
        for seed in args.seeds:
            for kind in args.kinds:
                for rate in args.rates:
                    name = f"{ds}__{kind}__{rate}__{seed}"
                    noisy = flip_labels(y[tr], K, rate, kind, seed=seed)
                    t0 = time.perf_counter()
                    P = out_of_sample_probs(X[tr], noisy, random_state=seed)
                    t_probs = time.perf_counter() - t0
                    t0 = time.perf_counter()
                    ours = detect_label_issues(noisy, P, classes=np.arange(K))
                    t_ours = time.perf_counter() - t0
                    arrays[f"probs__{name}"], arrays[f"labels__{name}"] = P, noisy
                    configs.append(
                        {
                            "name": name,
                            "dataset": ds,
                            "kind": kind,
                            "rate": rate,
                            "seed": seed,
                            "n": len(tr),
                            "K": K,
                            "X_tr": X[tr],
                            "X_te": X[te],
                            "y_tr": y[tr],
                            "y_te": y[te],
                            "noisy": noisy,
                            "ours": ours,
                            "t_probs": t_probs,
                            "t_ours": t_ours,
                        }
                    )
        print(f"{ds}: {len(args.seeds) * len(args.kinds) * len(args.rates)} runs", flush=True)
    cl, meta = run_cleanlab(args.cleanlab_python, arrays)
    rows, curves = [], {}
    for c in configs:
        name, flipped = c["name"], c["y_tr"] != c["noisy"]
        cl_rank = np.argsort(cl[f"quality__{name}"], kind="stable")
        row = {k: c[k] for k in ("dataset", "kind", "rate", "seed", "n")}
        row["flipped"] = int(flipped.sum())
        row["ours"] = scores(c["ours"].flagged, c["ours"].order, flipped)
        row["cleanlab"] = scores(cl[f"mask__{name}"], cl_rank, flipped)
        row["cleanlab_both"] = scores(cl[f"both__{name}"], cl_rank, flipped)
        row["seconds"] = {
            "probs": c["t_probs"],
            "ours": c["t_ours"],
            "cleanlab": meta["seconds"][name],
        }
        rows.append(row)
        if c["rate"] in args.recovery_rates and c["seed"] == args.seeds[0]:
            n_steps = max(1, int(np.ceil(flipped.sum() / args.step)))
            steps = [0] + [args.step * (i + 1) for i in range(n_steps)]
            curves[name] = {
                "steps": steps,
                "flipped": int(flipped.sum()),
                **recovery(
                    c["X_tr"],
                    c["y_tr"],
                    c["noisy"],
                    c["X_te"],
                    c["y_te"],
                    {"ours": c["ours"].order, "cleanlab": cl_rank},
                    steps,
                    c["seed"],
                ),
            }
            print(f"recovery {name}: {json.dumps(curves[name])}", flush=True)
    return {"rows": rows, "curves": curves, "cleanlab_version": meta["version"]}


def detection_table(rows: list[dict]) -> str:
    """Mean over seeds per data set x noise kind x rate; cells where ours < cleanlab counted."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["dataset"], r["kind"], r["rate"]), []).append(r)
    out = [
        "| data set | noise | rate | flips | ours: flagged | P | R | F1 | P@k "
        "| cleanlab: flagged | P | R | F1 | P@k | cleanlab `both` F1 "
        "| seeds ours F1 / P@k < cleanlab |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for (ds, kind, rate), rs in groups.items():

        def mean(who: str, key: str, rs: list[dict] = rs) -> float:
            return float(np.mean([r[who][key] for r in rs]))

        def cell(key: str) -> str:
            o, c = mean("ours", key), mean("cleanlab", key)
            return f"**{o:.3f}**" if o > c + 5e-4 else f"{o:.3f}"

        lose_f1 = sum(r["ours"]["f1"] < r["cleanlab"]["f1"] - 1e-9 for r in rs)
        lose_pk = sum(r["ours"]["p_at_k"] < r["cleanlab"]["p_at_k"] - 1e-9 for r in rs)
        out.append(
            f"| {ds} | {kind.replace('_', ' ')} | {rate:.0%} "
            f"| {np.mean([r['flipped'] for r in rs]):.0f} "
            f"| {mean('ours', 'flagged'):.0f} | {mean('ours', 'precision'):.3f} "
            f"| {mean('ours', 'recall'):.3f} | {cell('f1')} | {cell('p_at_k')} "
            f"| {mean('cleanlab', 'flagged'):.0f} | {mean('cleanlab', 'precision'):.3f} "
            f"| {mean('cleanlab', 'recall'):.3f} | {mean('cleanlab', 'f1'):.3f} "
            f"| {mean('cleanlab', 'p_at_k'):.3f} | {mean('cleanlab_both', 'f1'):.3f} "
            f"| {lose_f1} / {lose_pk} of {len(rs)} |"
        )
    return "\n".join(out)


def _gain(curve: list[float], steps: list[int], i: int) -> float:
    """Test-accuracy gain per 100 reviewed items after ``steps[i]`` items."""
    return (curve[i] - curve[0]) / (steps[i] / 100)


def recovery_table(curves: dict[str, dict]) -> str:
    """Accuracy before/after review and the gain per 100 reviewed items (first 200, all flips)."""
    out = [
        "| data set | noise | rate | flips | acc. noisy | ours: after 200 / all | gain per 100 "
        "(first 200 / all) | cleanlab order: gain per 100 | random: after 200 / all "
        "| gain per 100 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, c in curves.items():
        ds, kind, rate, _ = name.split("__")
        steps = c["steps"]
        i200 = steps.index(200) if 200 in steps else len(steps) - 1

        gains = {
            who: (_gain(c[who], steps, i200), _gain(c[who], steps, len(steps) - 1))
            for who in ("ours", "cleanlab", "random")
        }

        def both(who: str, gains: dict = gains) -> str:
            return f"{gains[who][0]:+.3f} / {gains[who][1]:+.3f}"

        out.append(
            f"| {ds} | {kind.replace('_', ' ')} | {float(rate):.0%} | {c['flipped']} "
            f"| {c['ours'][0]:.3f} | {c['ours'][i200]:.3f} / {c['ours'][-1]:.3f} "
            f"| {both('ours')} | {both('cleanlab')} "
            f"| {c['random'][i200]:.3f} / {c['random'][-1]:.3f} | {both('random')} |"
        )
    return "\n".join(out)


def plot_recovery(curves: dict[str, dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(curves)
    cols = 4
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(16, 3.2 * ((n + 3) // 4)))
    for ax, (name, c) in zip(np.ravel(axes), curves.items(), strict=False):
        for who, style in (("ours", "-o"), ("cleanlab", "--"), ("random", ":s")):
            ax.plot(c["steps"], c[who], style, label=who, markersize=3)
        ds, kind, rate, _ = name.split("__")
        ax.set_title(f"{ds}, {kind.replace('_', ' ')}, {float(rate):.0%}", fontsize=9)
        ax.set_xlabel("items reviewed", fontsize=8)
        ax.set_ylabel("test accuracy", fontsize=8)
        ax.tick_params(labelsize=7)
    np.ravel(axes)[0].legend(fontsize=8)
    for ax in np.ravel(axes)[n:]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def speed(n: int, seed: int) -> dict[str, float]:

    from active_learning.label_issues import detect_label_issues, out_of_sample_probs
    from active_learning.text_features import TextFeaturizer
    from augment.duplicates import near_duplicate_pairs

    texts, ag_labels = synthetic_texts(n, seed)
    y = ag_labels - 1
    noisy = flip_labels(y, 4, 0.1, "uniform", seed)
    t = {}
    t0 = time.perf_counter()
    X = TextFeaturizer().fit_transform(texts)
    t["tfidf"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    P = out_of_sample_probs(X, noisy, random_state=seed)
    t["cv_probs"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    pairs = near_duplicate_pairs(texts)
    t["near_duplicates"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    issues = detect_label_issues(noisy, P, duplicate_pairs=pairs)
    t["detect"] = time.perf_counter() - t0
    t["total"] = sum(t.values())
    flipped = noisy != y
    t["p_at_k"] = float(flipped[issues.order[: int(flipped.sum())]].mean())
    t["n"], t["pairs"], t["flagged"] = n, len(pairs), int(issues.flagged.sum())
    return t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", nargs="+", default=["sms", "ag_news", "youtube"])
    p.add_argument("--kinds", nargs="+", default=["uniform", "class_conditional"])
    p.add_argument("--rates", nargs="+", type=float, default=[0.05, 0.1, 0.2])
    p.add_argument("--recovery-rates", nargs="+", type=float, default=[0.1, 0.2])
    p.add_argument("--step", type=int, default=100)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--cleanlab-python", default="/work/cleanlab-venv/bin/python")
    p.add_argument("--speed-n", type=int, default=100_000)
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-speed", action="store_true")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}",
        "load_before": os.getloadavg(),
    }
    if not args.skip_quality:
        result = quality(args)
        result.update(meta, load_after=os.getloadavg())
        (OUT / "quality.json").write_text(json.dumps(result, indent=1))
        tables = detection_table(result["rows"]) + "\n\n" + recovery_table(result["curves"])
        (OUT / "tables.md").write_text(tables + "\n")
        print(tables, flush=True)
        if result["curves"]:
            plot_recovery(result["curves"], OUT / "recovery.png")
    if not args.skip_speed:
        result = speed(args.speed_n, args.seeds[0])
        result.update(meta, load_after=os.getloadavg())
        print(json.dumps(result), flush=True)
        (OUT / "speed.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
