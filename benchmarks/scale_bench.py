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


class CpuByRole:
    """CPU seconds spent per kind of process on the machine while it runs (PostgreSQL, the
    web server, niced job processes, the benchmark's own annotators, the rest), polled: a
    process that ends between two polls loses its last half second."""

    def __init__(self, every: float = 0.5) -> None:
        self.every = every
        self.first: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._poll(first=True)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _poll(self, first: bool = False) -> None:
        import psutil

        me = os.getpid()
        for p in psutil.process_iter(["name", "cmdline", "nice", "cpu_times", "ppid"]):
            info = p.info
            if info["cpu_times"] is None:
                continue
            used = info["cpu_times"].user + info["cpu_times"].system
            if first:
                self.first[p.pid] = used
            line = " ".join(info["cmdline"] or [])
            if info["name"] == "postgres":
                role = "postgres"
            elif (info["nice"] or 0) > 0:
                role = "job (niced)"
            elif "serve" in line and "labelapp" in line:
                role = "web server"
            elif p.pid == me or info["ppid"] == me:
                role = "annotators (benchmark)"
            else:
                role = "other"
            self.last[p.pid] = (role, used)

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(self.every):
            try:
                self._poll()
            except psutil.Error:
                continue

    def stop(self) -> dict[str, float]:
        """CPU seconds per role since the start."""
        self._stop.set()
        self._thread.join()
        out: dict[str, float] = {}
        for pid, (role, used) in self.last.items():
            out[role] = out.get(role, 0.0) + used - self.first.get(pid, 0.0)
        return {k: round(v, 1) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


def next_by_phase(
    log: Path, started: float, baseline: float, at: list[float], ms: list[float]
) -> list[dict]:
    """The annotators' ``next`` latencies before the retrain (warm-up, then ``baseline``
    seconds up to ``started``) and split by its progress messages (each line ``<unix time>
    <fraction> <message>`` in the step's log); "k of n parts scored" is one phase."""
    import re

    marks: list[tuple[float, str]] = []
    for line in log.read_text().splitlines():
        if line.startswith("=== retrain while"):
            marks = []
        m = re.match(r"^(\d{9,}\.\d+) \d\.\d\d (.*)$", line)
        if m:
            name = "scoring parts" if m[2].endswith("parts scored") else m[2]
            if not marks or marks[-1][1] != name:
                marks.append((float(m[1]), name))
    bounds = [
        (0.0, "server warm-up (first 3 s, no job)"),
        (started - baseline, "no job running (baseline)"),
        (started, "retrain started (snapshot, labeled texts, fit)"),
        *marks,
        (max(at, default=started) + 1e-3, ""),
    ]
    out = []
    for (start, name), (end, _) in zip(bounds, bounds[1:], strict=False):
        part = sorted(x for t, x in zip(at, ms, strict=True) if start <= t < end)
        if len(part) < 2:
            continue
        q = statistics.quantiles(part, n=100)
        out.append(
            {
                "phase": name[:60],
                "seconds": round(end - (start or min(at)), 1),
                "n": len(part),
                "p50": round(q[49], 1),
                "p99": round(q[98], 1),
                "max": round(part[-1], 1),
            }
        )
    return out


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
import time
give_way()  # at LABELAPP_JOB_NICE, as a worker's job process runs a retrain


def progress(f, m):
    print(f"{time.time():.3f} {f:.2f} {m}", flush=True)


run = retrain_project(sessions, project_id, progress=progress)
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


def retrain_under_load(
    env: dict, log: Path, tokens: list[str], tmp: Path, baseline: float, pace: float
) -> dict:
    """A retrain while 8 annotators label through ``labelapp serve`` (gunicorn, 2 workers),
    each ``pace`` seconds on an item (0: as fast as the server answers); their ``next``
    latencies over the retrain's span, and over ``baseline`` seconds before it with no job."""
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
            args = [(base, project_id, t, env["SCALE_BENCH_STOP"], pace) for t in tokens]
            runs.extend(pool.starmap(_annotate_until, args))

    stop_file = Path(env["SCALE_BENCH_STOP"])
    stop_file.unlink(missing_ok=True)
    thread = threading.Thread(target=annotate)
    thread.start()
    time.sleep(3.0)  # the annotators are labeling
    time.sleep(baseline)  # no job running: the same load's latencies without a retrain
    started = time.time()
    memory = TreeMemory(server.pid)
    cpu = CpuByRole()
    try:
        step = run_step("retrain while 8 annotate", python_step(RETRAIN), env, log)
    finally:
        stop_file.write_text("stop")
        thread.join()
        web_peaks = memory.stop()
        cpu_seconds = cpu.stop()
        server.terminate()
        server.wait(30)
        server_log.close()
    next_at = [x for r in runs for x in r["next_at"]]
    all_ms = [x for r in runs for x in r["next"]]
    next_ms = [x for t, x in zip(next_at, all_ms, strict=True) if t >= started]
    served = [x for r in runs for x in r["items"]]
    errors = [x for r in runs for x in r["errors"]]
    q = statistics.quantiles(next_ms, n=100) if len(next_ms) > 1 else [0.0] * 99
    step["annotators"] = {
        "annotations": len(next_ms),
        "served_twice": len(served) - len(set(served)),
        "next_p50_ms": round(q[49], 1),
        "next_p99_ms": round(q[98], 1),
        "errors": errors[:3],
        "web_peak_mb": web_peaks,
        "cpu_seconds": cpu_seconds,
        "pace_s": pace,
        "by_phase": next_by_phase(log, started, baseline, next_at, all_ms),
    }
    print(json.dumps(step["annotators"]), flush=True)
    return step


def _annotate_until(base: str, project_id: int, token: str, stop_file: str, pace: float) -> dict:
    """One annotator's loop in short rounds until ``stop_file`` exists."""
    from benchmarks.queue_bench import annotator_loop

    out: dict = {"next": [], "next_at": [], "submit": [], "items": [], "errors": []}
    while not Path(stop_file).exists():
        r = annotator_loop(base, project_id, token, 0.0, time.time() + 2.0, pace)
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
        "--pace",
        type=float,
        default=0.0,
        help="busy step: seconds each annotator spends on an item (0: none, the server saturated)",
    )
    parser.add_argument(
        "--baseline",
        type=float,
        default=30.0,
        help="busy step: seconds the annotators label before the retrain starts (no job)",
    )
    parser.add_argument(
        "--sql-rest",
        action="store_true",
        help="import only the labeled rows; add the others straight by SQL (not the importer)",
    )
    parser.add_argument(
        "--steps",
        default="apply,fit,retrain,busy,issues,export",
        help="after the import, which steps to run, in order (also: train, the end model; "
        "busy:PACE, a busy step at that --pace)",
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
            "busy": lambda: retrain_under_load(
                env, log, json.loads(tokens_path.read_text()), tmp, args.baseline, args.pace
            ),
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
                if name.startswith("busy:"):  # busy:PACE, a busy step at that pace
                    args.pace = float(name.split(":", 1)[1])
                    name = "busy"
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
                f"\nDuring the retrain (pace {a['pace_s']} s): {a['annotations']:,} annotations, "
                f"next p50 "
                f"{a['next_p50_ms']} ms, p99 {a['next_p99_ms']} ms, served twice "
                f"{a['served_twice']}, web peak {a['web_peak_mb']}, errors {a['errors']}"
            )
            print(f"CPU seconds by process kind: {a['cpu_seconds']}\n")
            print("| retrain phase | seconds | nexts | p50 ms | p99 ms | max ms |")
            print("|---|---:|---:|---:|---:|---:|")
            for p in a["by_phase"]:
                print(
                    f"| {p['phase']} | {p['seconds']} | {p['n']:,} | {p['p50']} | "
                    f"{p['p99']} | {p['max']} |"
                )


if __name__ == "__main__":
    main()
