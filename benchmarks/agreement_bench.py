"""Krippendorff's alpha and Fleiss' kappa on 1M annotations, next to the reference packages.

100k items x 10 annotators, 5 labels (each annotator copies a hidden truth 70% of the time), as a
float matrix: ``weak_supervision.agreement`` against the ``krippendorff`` package (alpha; nominal,
ordinal, interval) and statsmodels (Fleiss' kappa: ``aggregate_raters`` + ``fleiss_kappa``).
A second data set drops 30% of the ratings (alpha with missing values; statsmodels' Fleiss
cannot take missing ratings). All runs use the same saved matrix. Time: ours and the reference
alternate in one process, ``--repeat`` calls each, best CPU time (``process_time``, less
sensitive to other work on a shared machine) and best wall time. Memory: each implementation in
its own process, the peak RSS growth during one call (over the process with the data loaded) and
the peak of traced allocations (tracemalloc, which numpy reports to) in another call. Then the
whole ``agreement_report`` (bootstrap, Dawid-Skene, human level) on the same answers as a long
table.

    .venv/bin/pip install krippendorff   # GPL-3: a peer for this benchmark only, never a dependency
    .venv/bin/python benchmarks/agreement_bench.py [--items 100000] [--annotators 10] [--repeat 3]

The licence test fails while ``krippendorff`` is installed: uninstall it after the run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, peak_rss_mb


def make_ratings(items: int, annotators: int, missing: float, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 5, items)
    noise = rng.integers(0, 5, (items, annotators))
    ratings = np.where(rng.random((items, annotators)) < 0.7, truth[:, None], noise).astype(float)
    if missing:
        ratings[rng.random(ratings.shape) < missing] = np.nan
    return ratings + 1.0  # values 1..5 (ratio-safe, like a rating scale)


def _call(impl: str, metric: str, level: str):
    """The function to time: takes the items x annotators matrix, returns the value."""
    if impl == "ours" and metric == "alpha":
        from weak_supervision.agreement import krippendorff_alpha

        return lambda r: krippendorff_alpha(r, level)
    if impl == "ours" and metric == "fleiss":
        from weak_supervision.agreement import fleiss_kappa

        return fleiss_kappa
    if impl == "krippendorff":
        import krippendorff

        # The package takes coders x units; the transpose is a view, not a copy.
        return lambda r: krippendorff.alpha(reliability_data=r.T, level_of_measurement=level)
    if impl == "statsmodels":
        from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

        return lambda r: fleiss_kappa(aggregate_raters(r)[0], method="fleiss")
    raise ValueError(f"unknown implementation {impl!r}")


def run_memory(path: str, impl: str, metric: str, level: str) -> dict:
    """In a child process: the value, and the memory of one call (its own process, so the
    peak RSS is its own)."""
    import tracemalloc

    import numpy as np

    ratings = np.load(path)
    function = _call(impl, metric, level)
    baseline = peak_rss_mb()
    value = float(function(ratings))
    rss_growth = peak_rss_mb() - baseline
    tracemalloc.start()
    function(ratings)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"value": value, "rss_mb": rss_growth, "traced_mb": traced}


def run_times(path: str, metric: str, level: str, reference: str, repeat: int) -> dict:
    """In a child process: ours and the reference called alternately, so a burst of load from
    other work hits both; the best CPU and wall time of each."""
    import numpy as np

    ratings = np.load(path)
    functions = {"ours": _call("ours", metric, level), "theirs": _call(reference, metric, level)}
    for function in functions.values():
        function(ratings)  # warm up: lazy imports, caches
    cpu: dict[str, list[float]] = {name: [] for name in functions}
    wall: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeat):
        for name, function in functions.items():
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            function(ratings)
            cpu[name].append(time.process_time() - start_cpu)
            wall[name].append(time.perf_counter() - start_wall)
    return {name: {"cpu": min(cpu[name]), "wall": min(wall[name])} for name in functions}


def run_report(path: str) -> dict:
    """In a child process: agreement_report on the matrix as a long table of answers."""
    import numpy as np
    import pandas as pd

    from weak_supervision.agreement import agreement_report

    ratings = np.load(path)
    item, annotator = np.nonzero(~np.isnan(ratings))
    answers = pd.DataFrame(
        {"item": item, "annotator": annotator, "label": ratings[item, annotator].astype(int)}
    )
    baseline = peak_rss_mb()
    start = time.perf_counter()
    report = agreement_report(answers, [1, 2, 3, 4, 5], level="ordinal", n_resamples=1000)
    seconds = time.perf_counter() - start
    return {
        "answers": len(answers),
        "seconds": seconds,
        "rss_mb": peak_rss_mb() - baseline,
        "alpha_ordinal": report.krippendorff_alpha["ordinal"].estimate,
        "alpha_ordinal_ci": [
            report.krippendorff_alpha["ordinal"].low,
            report.krippendorff_alpha["ordinal"].high,
        ],
        "fleiss": report.fleiss_kappa.estimate,
        "disagreements": len(report.disagreements),
    }


def child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--annotators", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path, *rest = args.child
        if kind == "report":
            result = run_report(path)
        elif kind == "memory":
            result = run_memory(path, *rest)
        else:
            metric, level, reference, repeat = rest
            result = run_times(path, metric, level, reference, int(repeat))
        print(json.dumps(result))
        return

    import numpy as np

    print(f"# agreement benchmark: {args.items} items x {args.annotators} annotators; {machine()}")
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name, missing in (("full", 0.0), ("30% missing", 0.3)):
            ratings = make_ratings(args.items, args.annotators, missing)
            path = str(Path(workdir) / f"{name.split()[0]}.npy")
            np.save(path, ratings)
            n = int(np.isfinite(ratings).sum())
            cases = [("alpha", lv, "krippendorff") for lv in ("nominal", "ordinal", "interval")]
            if not missing:
                cases.append(("fleiss", "nominal", "statsmodels"))
            for metric, level, reference in cases:
                times = child("times", path, metric, level, reference, str(args.repeat))
                row = {
                    "data": name,
                    "annotations": n,
                    "metric": "Krippendorff's alpha" if metric == "alpha" else "Fleiss' kappa",
                    "level": level,
                    "reference": reference,
                    "ours": child("memory", path, "ours", metric, level) | times["ours"],
                    "theirs": child("memory", path, reference, metric, level) | times["theirs"],
                }
                rows.append(row)
                print(json.dumps(row))
            if not missing:
                report = child("report", path)
                print(json.dumps({"agreement_report": report}))

    print()
    print(
        "| data | annotations | metric | value (ours) | value (reference) | abs. diff | "
        "CPU time ours / ref | speed-up (CPU) | wall time ours / ref | "
        "peak RSS growth ours / ref | traced peak ours / ref |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        ours, theirs = row["ours"], row["theirs"]
        print(
            f"| {row['data']} | {row['annotations']:,} | {row['metric']} ({row['level']}) vs "
            f"{row['reference']} | {ours['value']:.6f} | {theirs['value']:.6f} | "
            f"{abs(ours['value'] - theirs['value']):.0e} | "
            f"{ours['cpu']:.3f} s / {theirs['cpu']:.3f} s | {theirs['cpu'] / ours['cpu']:.1f}x | "
            f"{ours['wall']:.3f} s / {theirs['wall']:.3f} s | "
            f"{ours['rss_mb']:.0f} MB / {theirs['rss_mb']:.0f} MB | "
            f"{ours['traced_mb']:.0f} MB / {theirs['traced_mb']:.0f} MB |"
        )


if __name__ == "__main__":
    main()
