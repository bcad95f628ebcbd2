"""The label-model zoo: quality on WRENCH youtube/sms against the published table, and the speed
of ``labelapp ws evaluate`` on 2,000 rows x 164 LFs (SemEval's shape: 9 classes, 164 one-sided
LFs; synthetic, since that WRENCH set is not on this machine).

Usage: nice -n 19 .venv/bin/python benchmarks/ws_zoo_bench.py

1. ``labelapp ws evaluate`` on shared/data/wrench/{youtube,sms}: every candidate's
   cross-validated valid score and test score, the chosen one, next to the published table.
2. A synthetic WRENCH folder (train 2,000 / valid 250 / test 500 rows, 164 LFs, 9 classes;
   each LF votes one class with precision 0.5-0.95 and recall 0.01-0.08): wall time of the
   ``labelapp ws evaluate`` process (imports included) and its CPU time.
3. One Snorkel label-model fit (500 epochs) on that train matrix: Snorkel's own ``LabelModel``
   against ours (same optimiser, its loss computed without the d x d residual), same run.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
LABELAPP = Path(sys.executable).parent / "labelapp"


def synthetic_votes(n: int, m: int = 164, k: int = 9, seed: int = 0):
    """Truth from a Dirichlet class prior; LF j votes class j % k (one-sided, like keyword or
    pattern LFs): recall r in [0.01, 0.08] on its class, false-fire rate set by its precision."""
    rng = np.random.default_rng(seed)
    prior = np.random.default_rng(99).dirichlet(np.ones(k) * 2)
    y = rng.choice(k, size=n, p=prior)
    L = np.full((n, m), -1, dtype=np.int64)
    for j in range(m):
        c = j % k
        precision, r = rng.uniform(0.5, 0.95), rng.uniform(0.01, 0.08)
        s = min(1.0, r * prior[c] * (1 - precision) / (precision * (1 - prior[c])))
        fires = rng.random(n) < np.where(y == c, r, s)
        L[fires, j] = c
    return L, y


def write_synthetic(folder: Path, n: int = 2000, m: int = 164, k: int = 9) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, (split, size) in enumerate((("train", n), ("valid", n // 8), ("test", n // 4))):
        L, y = synthetic_votes(size, m, k, seed=i)
        items = {
            str(t): {"label": int(y[t]), "weak_labels": L[t].tolist(), "data": {"text": ""}}
            for t in range(size)
        }
        (folder / f"{split}.json").write_text(json.dumps(items))
    (folder / "label.json").write_text(json.dumps({str(c): f"c{c}" for c in range(k)}))


def ws_evaluate(folder: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(
        [str(LABELAPP), "ws", "evaluate", str(folder)], capture_output=True, text=True
    )
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    lines = done.stdout.strip().splitlines()
    return {
        "wall_seconds": round(wall, 1),
        "cpu_seconds": round(
            after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1
        ),
        "output": lines,
        "summary": json.loads(lines[-1]),
    }


def published() -> dict[str, dict[str, float]]:
    rows = list(
        csv.reader(
            line
            for line in (DATA / "wrench/wrench_label_model_results.csv").open()
            if not line.startswith("#")
        )
    )
    header = rows[0]
    out = {}
    for name, col in (("youtube", "Youtube_acc"), ("sms", "SMS_f1")):
        i = header.index(col)
        out[name] = {r[0]: float(r[i]) for r in rows[1:]}
    return out


def snorkel_fit_seconds(L: np.ndarray, k: int) -> dict:
    from snorkel.labeling.model import LabelModel as SnorkelLabelModel

    from weak_supervision.label_model import LabelModel

    LabelModel(k, n_epochs=5).fit(L)  # imports and one-time set-up out of the timing
    t = time.perf_counter()
    ours = LabelModel(k).fit(L).predict_proba(L)
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    ref = SnorkelLabelModel(cardinality=k, verbose=False)
    ref.fit(L, n_epochs=500, lr=0.01, seed=123, progress_bar=False)
    theirs = ref.predict_proba(L)
    snorkel_s = time.perf_counter() - t
    return {
        "ours_seconds": round(ours_s, 2),
        "snorkel_seconds": round(snorkel_s, 2),
        "ratio": round(snorkel_s / ours_s, 1),
        "max_prob_difference": float(np.abs(ours - theirs).max()),
    }


def main() -> None:
    load = Path("/proc/loadavg").read_text().split()[:3]
    results: dict = {"load_at_start": load, "wrench": {}}
    pub = published()
    for name in ("youtube", "sms"):
        res = ws_evaluate(DATA / "wrench" / name)
        best = max(pub[name].items(), key=lambda kv: kv[1])
        results["wrench"][name] = {**res, "published": pub[name], "published_best": best}
        print("\n".join(res["output"][:-1]), flush=True)
        print(f"  published best {best}; wall {res['wall_seconds']} s\n", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "synthetic_semeval_shape"
        write_synthetic(folder)
        res = ws_evaluate(folder)
        results["synthetic_2000x164"] = res
        print("\n".join(res["output"][:-1]), flush=True)
        print(f"  ws evaluate: wall {res['wall_seconds']} s, cpu {res['cpu_seconds']} s\n")
    L, _ = synthetic_votes(2000, seed=0)
    results["label_model_fit_2000x164"] = snorkel_fit_seconds(L, 9)
    print("one label-model fit:", results["label_model_fit_2000x164"], flush=True)
    results["load_at_end"] = Path("/proc/loadavg").read_text().split()[:3]
    for entry in [*results["wrench"].values(), results["synthetic_2000x164"]]:
        entry.pop("output")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
