"""A large project end to end on PostgreSQL, each step in its own process, large steps on Dask.

Steps: import N short texts (real YouTube comments, two random words added so they differ; the
first 100k with a human label, 5% of them wrong), apply 20 keyword/regex LFs, fit the label model,
featurize and score the pool for margin sampling (a retrain), one more retrain while 8 annotators
label through the API (their ``next`` latencies during it), label-issue detection on the 100k
labeled items, and export to Parquet. Each step's wall time and the peak resident memory of every
process it ran (the step's own, its Dask workers, its sandbox children) are printed as a
Markdown table.

    .venv/bin/python benchmarks/scale_bench.py --items 1000000
    .venv/bin/python benchmarks/scale_bench.py --items 10000000

``LABELAPP_DASK_MIN_ITEMS=1`` is set, so every size runs the partitioned path (a 2-worker
LocalCluster); ``--part-items`` sets the part size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import fresh_database, machine

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "labelapp" / "demo_data" / "youtube_spam.csv"
ANNOTATORS = 8

KEYWORDS = {
    "spam": [
        ["check out"],
        ["subscribe"],
        ["my channel"],
        ["http", "www"],
        ["free"],
        ["please like"],
        ["money"],
        ["follow me"],
        ["click"],
        ["giveaway", "win"],
    ],
    "ham": [
        ["love this song", "love it"],
        ["beautiful"],
        ["best song"],
        ["amazing"],
        ["memories"],
        ["voice"],
    ],
}
REGEXES = {
    "spam": [r"https?://\S+", r"\bsub(scribe|4sub)\b"],
    "ham": [r"\b(19|20)\d\d\b", r"\bbillion (views)?\b"],
}


def make_file(n: int, path: Path, labeled: int, seed: int = 0) -> None:
    """``n`` rows (id, text, label) as Parquet: comments cycled with two random words appended;
    the first ``labeled`` rows carry their (5% flipped) label, the others none."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    demo = pd.read_csv(DEMO).drop_duplicates("CONTENT")
    texts = demo["CONTENT"].str.slice(0, 200).to_numpy(dtype=object)
    labels = np.where(demo["CLASS"].to_numpy() == 1, "spam", "ham").astype(object)
    words = sorted({w for t in texts for w in str(t).lower().split() if w.isalpha()})[:2000]
    rng = np.random.default_rng(seed)
    writer = None
    chunk = 500_000
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        pick = rng.integers(0, len(texts), size)
        extra = rng.integers(0, len(words), (size, 2))
        w = np.array(words, dtype=object)
        text = texts[pick] + " " + w[extra[:, 0]] + " " + w[extra[:, 1]]
        label = labels[pick].copy()
        flip = rng.random(size) < 0.05
        label[flip] = np.where(label[flip] == "spam", "ham", "spam")
        pos = np.arange(start, start + size)
        label[pos >= labeled] = None
        table = pa.table(
            {"id": [f"c{i}" for i in pos], "text": list(text), "label": list(label)},
            schema=pa.schema([("id", pa.string()), ("text", pa.string()), ("label", pa.string())]),
        )
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    if writer is not None:
        writer.close()


def add_unlabeled_by_sql(url: str, start: int, n: int) -> None:
    """Items ``start..n-1`` of project "bench" inserted by PostgreSQL itself, texts built as
    :func:`make_file` builds them (a comment and two of its words, by hash), with their queue
    entries, then ANALYZE: for sizes the importer has not been measured at."""
    import pandas as pd
    from sqlalchemy import text

    from labelapp.db import make_engine

    comments = pd.read_csv(DEMO).drop_duplicates("CONTENT")["CONTENT"].str.slice(0, 200).tolist()
    words = sorted({w for t in comments for w in str(t).lower().split() if w.isalpha()})[:2000]
    engine = make_engine(url)
    with engine.begin() as conn:
        p = conn.execute(text("SELECT id FROM projects WHERE name = 'bench'")).scalar_one()
        conn.execute(text("CREATE TEMP TABLE src (k int PRIMARY KEY, t text)"))
        conn.execute(text("CREATE TEMP TABLE words (k int PRIMARY KEY, w text)"))
        conn.execute(
            text("INSERT INTO src VALUES (:k, :t)"),
            [{"k": k, "t": t} for k, t in enumerate(comments)],
        )
        conn.execute(
            text("INSERT INTO words VALUES (:k, :w)"),
            [{"k": k, "w": w} for k, w in enumerate(words)],
        )
        conn.execute(
            text(
                "INSERT INTO items (project_id, external_id, text, content_hash, meta, position, "
                "target_k, created_at) "
                "SELECT :p, 'c' || i, s.t || ' ' || a.w || ' ' || b.w, 'h' || i, '{}', i, 1, now() "
                "FROM generate_series(CAST(:start AS bigint), :n - 1) AS i "
                "JOIN src s ON s.k = i % :ns "
                "JOIN words a ON a.k = (i * 7919) % :nw "
                "JOIN words b ON b.k = (i * 104729) % :nw"
            ),
            {"p": p, "start": start, "n": n, "ns": len(comments), "nw": len(words)},
        )
        conn.execute(
            text(
                "INSERT INTO queue_entries (item_id, project_id, position, priority, remaining, "
                "is_gold) SELECT id, project_id, position, 0.0, 1, false FROM items "
                "WHERE project_id = :p AND position >= :start"
            ),
            {"p": p, "start": start},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


class TreeMemory:
    """Peak resident memory of a process and of each of its descendants, polled."""

    def __init__(self, pid: int, every: float = 0.25) -> None:
        self.pid, self.every = pid, every
        self.peaks: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        root = psutil.Process(self.pid)
        while not self._stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for p in procs:
                try:
                    mb = p.memory_info().rss / 2**20
                    name = _role(p.cmdline())
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                if mb > self.peaks.get(p.pid, ("", 0.0))[1]:
                    self.peaks[p.pid] = (name, mb)
            self._stop.wait(self.every)

    def stop(self) -> dict[str, float]:
        """The highest peak per kind of process (step, dask worker, nanny, scheduler, other)."""
        self._stop.set()
        self._thread.join()
        out: dict[str, float] = {}
        for name, mb in self.peaks.values():
            out[name] = max(out.get(name, 0.0), mb)
        return {k: round(v) for k, v in sorted(out.items())}


def _role(cmdline: list[str]) -> str:
    line = " ".join(cmdline)
    if "spawn_main" in line or "forkserver" in line or "multiprocessing" in line:
        return "child (dask worker, nanny or sandbox)"
    if "scale_bench_step" in line or "labelapp" in line:
        return "step"
    return cmdline[0].rsplit("/", 1)[-1] if cmdline else "?"


def run_step(name: str, cmd: list[str], env: dict[str, str], log: Path) -> dict:
    """Run one step's command, timing it and watching its processes' memory."""
    t0 = time.perf_counter()
    with open(log, "a") as out:
        out.write(f"\n=== {name}: {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        memory = TreeMemory(proc.pid)
        code = proc.wait()
    seconds = time.perf_counter() - t0
    peaks = memory.stop()
    if code != 0:
        raise SystemExit(f"step {name} failed ({code}); see {log}")
    print(json.dumps({"step": name, "seconds": round(seconds, 1), "peak_mb": peaks}), flush=True)
    return {"step": name, "seconds": seconds, "peak_mb": peaks}


def python_step(code: str) -> list[str]:
    """A step written as Python, run in a new interpreter (its memory its own)."""
    return [sys.executable, "-c", "import sys; sys.argv = ['scale_bench_step']\n" + code]


SETUP = """
from labelapp.db import make_engine, make_session_factory, session_scope
from labelapp.models import Project
from sqlalchemy import select
sessions = make_session_factory(make_engine())
with session_scope(sessions) as s:
    project_id = s.scalar(select(Project.id).where(Project.name == 'bench'))
"""

SAVE_LFS = (
    SETUP
    + """
import json
from labelapp.services.weak.lfs import save_lf
from labelapp.services.users import add_member, create_user
specs = json.loads({specs!r})
with session_scope(sessions) as s:
    project = s.get(Project, project_id)
    project.retrain_every = 0  # retrains are started by the benchmark
    for spec in specs:
        save_lf(s, project, spec, None)
tokens = []
with session_scope(sessions) as s:
    project = s.get(Project, project_id)
    for i in range({annotators}):
        user, token = create_user(s, f"annotator{{i}}", "annotator", password="x" * 12)
        add_member(s, user, project)
        tokens.append(token)
open({tokens_path!r}, "w").write(json.dumps(tokens))
"""
)

RETRAIN = (
    SETUP
    + """
from labelapp.services.job_child import give_way
from labelapp.services.retrain import retrain_project
give_way()  # at LABELAPP_JOB_NICE, as a worker's job process runs a retrain
run = retrain_project(sessions, project_id, progress=lambda f, m: print(f"{f:.2f} {m}", flush=True))
print("retrain", run.params, run.metrics, flush=True)
"""
)


def lf_specs() -> list[dict]:
    specs = []
    for label, groups in KEYWORDS.items():
        for i, words in enumerate(groups):
            specs.append(
                {"kind": "keyword", "name": f"kw_{label}_{i}", "label": label, "keywords": words}
            )
    for label, patterns in REGEXES.items():
        for i, pattern in enumerate(patterns):
            specs.append(
                {"kind": "regex", "name": f"re_{label}_{i}", "label": label, "pattern": pattern}
            )
    assert len(specs) == 20, len(specs)
    return specs


def retrain_under_load(env: dict, log: Path, tokens: list[str], tmp: Path) -> dict:
    """A retrain while 8 annotators label through ``labelapp serve`` (gunicorn, 2 workers);
    the annotators' ``next`` latencies over the retrain's span."""
    import requests

    from benchmarks.queue_bench import free_port

    port = free_port()
    cmd = [
        str(ROOT / ".venv/bin/labelapp"),
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
        "--threads",
        "8",
    ]
    server_log = open(tmp / "server.log", "w")  # noqa: SIM115 (closed below)
    server = subprocess.Popen(cmd, env=env, stdout=server_log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if requests.get(f"{base}/api/health", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.2)
    with open(env["SCALE_BENCH_PROJECT_FILE"]) as f:
        project_id = int(f.read())
    import multiprocessing

    runs: list[dict] = []

    def annotate() -> None:
        """Each annotator (a process) labels until the stop file appears (the retrain ended)."""
        with multiprocessing.get_context("fork").Pool(len(tokens)) as pool:
            args = [(base, project_id, t, env["SCALE_BENCH_STOP"]) for t in tokens]
            runs.extend(pool.starmap(_annotate_until, args))

    stop_file = Path(env["SCALE_BENCH_STOP"])
    stop_file.unlink(missing_ok=True)
    thread = threading.Thread(target=annotate)
    thread.start()
    time.sleep(3.0)  # the annotators are labeling
    memory = TreeMemory(server.pid)
    try:
        step = run_step("retrain while 8 annotate", python_step(RETRAIN), env, log)
    finally:
        stop_file.write_text("stop")
        thread.join()
        web_peaks = memory.stop()
        server.terminate()
        server.wait(30)
        server_log.close()
    next_ms = [x for r in runs for x in r["next"]]
    served = [x for r in runs for x in r["items"]]
    errors = [x for r in runs for x in r["errors"]]
    q = statistics.quantiles(next_ms, n=100) if len(next_ms) > 1 else [0.0] * 99
    step["annotators"] = {
        "annotations": len(served),
        "served_twice": len(served) - len(set(served)),
        "next_p50_ms": round(q[49], 1),
        "next_p99_ms": round(q[98], 1),
        "errors": errors[:3],
        "web_peak_mb": web_peaks,
    }
    print(json.dumps(step["annotators"]), flush=True)
    return step


def _annotate_until(base: str, project_id: int, token: str, stop_file: str) -> dict:
    """One annotator's loop in short rounds until ``stop_file`` exists."""
    from benchmarks.queue_bench import annotator_loop

    out: dict = {"next": [], "submit": [], "items": [], "errors": []}
    while not Path(stop_file).exists():
        r = annotator_loop(base, project_id, token, 0.0, time.time() + 2.0)
        for k in out:
            out[k].extend(r[k])
        if r["errors"]:
            break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--part-items", type=int, default=250_000)
    parser.add_argument("--labeled", type=int, default=100_000, help="items imported labeled")
    parser.add_argument("--keep-log", type=Path, default=None)
    parser.add_argument(
        "--sql-rest",
        action="store_true",
        help="import only the labeled rows; add the others straight by SQL (not the importer)",
    )
    parser.add_argument(
        "--steps",
        default="apply,fit,retrain,busy,issues,export",
        help="after the import, which steps to run, in order (also: train, the end model)",
    )
    args = parser.parse_args()
    results = []
    with (
        tempfile.TemporaryDirectory() as tmp_name,
        fresh_database("postgresql", Path(tmp_name)) as url,
    ):
        tmp = Path(tmp_name)
        log = args.keep_log or tmp / "steps.log"
        env = {
            **os.environ,
            "LABELAPP_DATABASE_URL": url,
            "LABELAPP_DATA_DIR": str(tmp / "data"),
            "LABELAPP_DASK_MIN_ITEMS": "1",
            "LABELAPP_DASK_PART_ITEMS": str(args.part_items),
            "SCALE_BENCH_PROJECT_FILE": str(tmp / "project_id"),
            "SCALE_BENCH_STOP": str(tmp / "stop"),
        }
        t = time.perf_counter()
        data = tmp / "bench.parquet"
        make_file(args.labeled if args.sql_rest else args.items, data, args.labeled)
        print(f"wrote {args.items:,} rows in {time.perf_counter() - t:.1f} s", flush=True)
        cli = str(ROOT / ".venv/bin/labelapp")
        import_cmd = [cli, "import", str(data), "--project", "bench", "--create"]
        import_cmd += ["--labels", "ham,spam", "--label-col", "label"]
        results.append(run_step("import", import_cmd, env, log))
        data.unlink()
        if args.sql_rest:
            t = time.perf_counter()
            add_unlabeled_by_sql(url, args.labeled, args.items)
            print(
                f"added {args.items - args.labeled:,} items by SQL in "
                f"{time.perf_counter() - t:.1f} s",
                flush=True,
            )
        tokens_path = tmp / "tokens.json"
        save = SAVE_LFS.format(
            specs=json.dumps(lf_specs()), annotators=ANNOTATORS, tokens_path=str(tokens_path)
        )
        save += f"\nopen({str(tmp / 'project_id')!r}, 'w').write(str(project_id))\n"
        run_step("save 20 LFs, 8 annotators", python_step(save), env, log)
        lf = [cli, "lf", "apply", "--project", "bench", "--steps"]
        export = [cli, "export", "--project", "bench", "--format", "parquet"]
        steps = {
            "apply": lambda: run_step("apply 20 LFs", [*lf, "apply"], env, log),
            "fit": lambda: run_step("fit the label model", [*lf, "fit"], env, log),
            "train": lambda: run_step("train the end model", [*lf, "train"], env, log),
            "retrain": lambda: run_step(
                "featurize and score the pool (retrain)", python_step(RETRAIN), env, log
            ),
            "busy": lambda: retrain_under_load(env, log, json.loads(tokens_path.read_text()), tmp),
            "issues": lambda: run_step(
                f"label issues on {args.labeled:,} labels",
                [cli, "review", "scan", "--project", "bench", "--top", "20"],
                env,
                log,
            ),
            "export": lambda: run_step(
                "export to Parquet", [*export, "--out", str(tmp / "export")], env, log
            ),
        }
        try:
            for name in args.steps.split(","):
                results.append(steps[name]())
        finally:
            report(args, results)


def report(args: argparse.Namespace, results: list[dict]) -> None:
    """The steps run so far as a Markdown table."""
    print(
        f"\nMachine: {machine()}; PostgreSQL, {args.items:,} items, parts of {args.part_items:,}\n"
    )
    print("| step | seconds | peak MB per process |")
    print("|---|---:|---|")
    for r in results:
        peaks = ", ".join(f"{k} {v:,}" for k, v in r["peak_mb"].items())
        print(f"| {r['step']} | {r['seconds']:.1f} | {peaks} |")
    for r in results:
        if "annotators" in r:
            a = r["annotators"]
            print(
                f"\nDuring the retrain: {a['annotations']:,} annotations, next p50 "
                f"{a['next_p50_ms']} ms, p99 {a['next_p99_ms']} ms, served twice "
                f"{a['served_twice']}, web peak {a['web_peak_mb']}, errors {a['errors']}"
            )


if __name__ == "__main__":
    main()
