"""``labelapp drift`` on 1M items against 1M items (SQLite): the command's wall time, end to end.

Two imports of 1,000,000 rows each, built from the real YouTube comments (``../shared/data``):
group A resamples the Psy and Katy Perry videos' comments, group B the other three; each row
carries a numeric ``likes`` column, a ``lang`` category and the comment's date. The drift command
then runs in its own process (``labelapp drift --a import:a.csv --b import:b.csv``), so the
figure includes starting the CLI, reading 2M items and every test.

    nice -n 10 .venv/bin/python benchmarks/drift_bench.py [--rows 1000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import fresh_database, machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = (
    Path(os.environ.get("LABELAPP_SHARED_DATA", ROOT.parent / "shared" / "data"))
    / "youtube_spam_uci"
)
RESULTS = ROOT / "benchmarks" / "results" / "drift.md"


def build(videos: list[str], rows: int, seed: int, prefix: str, path: Path) -> None:
    import numpy as np
    import pandas as pd

    source = pd.concat([pd.read_csv(DATA / v, dtype=str, keep_default_na=False) for v in videos])
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(source), rows)
    frame = pd.DataFrame({
        "id": [f"{prefix}{i}" for i in range(rows)],
        # a numbered comment: each row is its own item (same comment, new text)
        "text": source["CONTENT"].to_numpy()[pick] + " #" + np.arange(rows).astype(str),
        "DATE": source["DATE"].to_numpy()[pick],
        "likes": rng.poisson(3 if prefix == "a" else 4, rows),
        "lang": rng.choice(["en", "es", "pt"], rows, p=[0.8, 0.1, 0.1]),
    })  # fmt: skip
    frame.to_csv(path, index=False)


def run(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([str(ROOT / ".venv" / "bin" / "labelapp"), *args], env=env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode:
        sys.exit(f"labelapp {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as tmp, fresh_database("sqlite", Path(tmp)) as url:
        env = {**os.environ, "LABELAPP_DATABASE_URL": url, "LABELAPP_DATA_DIR": tmp}
        a, b = Path(tmp) / "a.csv", Path(tmp) / "b.csv"
        build(["Youtube01-Psy.csv", "Youtube02-KatyPerry.csv"], rows, 1, "a", a)
        build(
            ["Youtube03-LMFAO.csv", "Youtube04-Eminem.csv", "Youtube05-Shakira.csv"],
            rows,
            2,
            "b",
            b,
        )
        run(["projects", "create", "bench", "--labels", "ham,spam"], env)
        # B's dates have gaps A's have not: the schema refuses it unless it evolves.
        imports = [run(["import", str(p), "--project", "bench", "--schema", "evolve"], env)[0]
                   for p in (a, b)]  # fmt: skip
        seconds, out = run(
            ["drift", "--project", "bench", "--a", "import:a.csv", "--b", "import:b.csv"], env
        )
    report = json.loads(out.strip().splitlines()[-1])
    line = (f"| {rows:,} | {rows:,} | {seconds:.1f} | {report['domain_auc']:.3f} | "
            f"{'yes' if report['drifted'] else 'no'} | "
            + ", ".join(f"{k} {'drifted' if v['drifted'] else 'same'}" for k, v in report["columns"].items())
            + " |")  # fmt: skip
    print(line)
    RESULTS.write_text(
        "## Drift: `labelapp drift` on two groups of items\n\n"
        f"`nice -n 10 .venv/bin/python benchmarks/drift_bench.py --rows {rows}` on {machine()} (shared "
        "with other jobs), SQLite. Group A resamples the Psy and Katy Perry comments, group B the other "
        "three videos (real YouTube comments, numbered so each row is its own item), plus `likes` "
        "(Poisson 3 vs 4), `lang` (same shares) and the comment's date. The time is the whole "
        "command in its own process: start, read both groups' items, every test (target: under 60 s). "
        f"The two imports took {imports[0]:.0f} s and {imports[1]:.0f} s (not part of the figure).\n\n"
        "| items in A | items in B | drift command (s) | domain AUC | drifted | per column |\n"
        "|---:|---:|---:|---:|---|---|\n" + line + "\n"
    )


if __name__ == "__main__":
    main()
