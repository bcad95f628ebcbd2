"""Import 100k and 1M short-text rows from CSV and Parquet into SQLite and PostgreSQL.

Each import runs in its own process, so its peak memory is its own. Prints one line per run and
a Markdown table at the end.

    .venv/bin/python benchmarks/import_bench.py [--sizes 100000,1000000] [--dbs sqlite,postgresql]
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

from benchmarks._common import fresh_database, machine, peak_rss_mb

WORDS = [
    "check",
    "out",
    "my",
    "new",
    "video",
    "subscribe",
    "please",
    "love",
    "this",
    "song",
    "great",
    "channel",
    "free",
    "gift",
    "card",
    "who",
    "is",
    "watching",
    "in",
    "2026",
    "best",
    "music",
    "ever",
    "link",
    "in",
    "bio",
    "win",
    "a",
    "prize",
    "amazing",
    "views",
]


def make_files(rows: int, workdir: Path) -> dict[str, Path]:
    """Short texts (about 60 characters) with ids, like comments or support tickets."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(rows)
    words = np.array(WORDS)
    picks = rng.integers(0, len(words), size=(rows, 10))
    texts = pd.Series([" ".join(w) for w in words[picks]])
    texts = texts + " #" + pd.Series(np.arange(rows)).astype(str)  # every text distinct
    frame = pd.DataFrame({"id": [f"c{i}" for i in range(rows)], "text": texts})
    csv_path = workdir / f"rows-{rows}.csv"
    parquet_path = workdir / f"rows-{rows}.parquet"
    frame.to_csv(csv_path, index=False)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), parquet_path)
    return {"csv": csv_path, "parquet": parquet_path}


def run_one(path: Path, db: str, workdir: Path) -> dict:
    """Import ``path`` into a fresh database of kind ``db``; runs in a child process."""
    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.services.imports import import_path
    from labelapp.services.projects import create_project

    with fresh_database(db, workdir) as url:
        engine = make_engine(url)
        sessions = make_session_factory(engine)
        with session_scope(sessions) as session:
            project = create_project(session, "bench", ["a", "b"])
        baseline = peak_rss_mb()
        start = time.perf_counter()
        with session_scope(sessions) as session:
            project = session.merge(project)
            report = import_path(session, project, path)
        seconds = time.perf_counter() - start
        engine.dispose()
    return {
        "file": path.name,
        "db": db,
        "rows": report.items_created,
        "seconds": round(seconds, 2),
        "rows_per_s": round(report.items_created / seconds),
        "peak_mb": round(peak_rss_mb()),
        "baseline_mb": round(baseline),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--one", nargs=3, metavar=("PATH", "DB", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(Path(args.one[0]), args.one[1], Path(args.one[2]))))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for rows in [int(s) for s in args.sizes.split(",")]:
            files = make_files(rows, workdir)
            for fmt in args.formats.split(","):
                for db in args.dbs.split(","):
                    out = (
                        subprocess.run(
                            [sys.executable, __file__, "--one", str(files[fmt]), db, str(workdir)],
                            check=True,
                            capture_output=True,
                            text=True,
                        )
                        .stdout.strip()
                        .splitlines()[-1]
                    )
                    result = json.loads(out)
                    print(json.dumps(result), flush=True)
                    results.append(result)
    print(f"\nMachine: {machine()}\n")
    print("| file | database | rows | seconds | rows/s | peak memory (MB) |")
    print("|---|---|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['file']} | {r['db']} | {r['rows']:,} | {r['seconds']} | {r['rows_per_s']:,} "
            f"| {r['peak_mb']} |"
        )


if __name__ == "__main__":
    main()
