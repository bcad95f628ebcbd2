"""The annotation loop under load: N annotators each looping next + submit over HTTP.

Seeds a project of --items items straight into a fresh database (the import has its own
benchmark), serves it with ``labelapp serve`` (gunicorn on PostgreSQL, the one-process threaded
server on SQLite, as a user runs them), and drives it from a separate client process.

    .venv/bin/python benchmarks/queue_bench.py --db postgresql --items 1000000 --clients 1,8,32
    .venv/bin/python benchmarks/queue_bench.py --db sqlite --items 1000000 --clients 1,8
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import fresh_database, machine

ROOT = Path(__file__).resolve().parents[1]


def seed(url: str, items: int, annotators: int) -> tuple[int, list[str]]:
    """A project with ``items`` short texts in import order, and annotators with API tokens."""
    from sqlalchemy import text

    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import utcnow
    from labelapp.services.bulk import sqlite_timestamp
    from labelapp.services.projects import create_project
    from labelapp.services.users import add_member, create_user

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    tokens = []
    with session_scope(sessions) as session:
        project = create_project(session, "bench", ["ham", "spam"])
        # The loop itself is measured: no retrains (they run in the job process, not the server,
        # but on 2 cores they would still take CPU from it).
        project.retrain_every = 0
        for i in range(annotators):
            user, token = create_user(session, f"annotator{i}", "annotator", password="x" * 12)
            add_member(session, user, project)
            tokens.append(token)
        project_id = project.id
    sqlite = engine.dialect.name == "sqlite"
    now = sqlite_timestamp(utcnow()) if sqlite else utcnow()
    series = (
        "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < :n) "
        "SELECT i FROM s"
        if sqlite
        else "SELECT i FROM generate_series(0, :n - 1) AS s(i)"
    )
    concat = "'comment number ' || i || ' about a song'"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO items (project_id, external_id, text, content_hash, meta, position, "
                "target_k, created_at) "
                f"SELECT :p, 'c' || i, {concat}, 'h' || i, '{{}}', i, 1, :now FROM ({series}) AS q"
            ),
            {"p": project_id, "n": items, "now": now},
        )
        conn.execute(
            text(
                "INSERT INTO queue_entries (item_id, project_id, position, priority, remaining, "
                "is_gold) SELECT id, project_id, position, 0.0, 1, false FROM items "
                "WHERE project_id = :p"
            ),
            {"p": project_id},
        )
        if not sqlite:
            conn.execute(text("ANALYZE"))
    engine.dispose()
    return project_id, tokens


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (gunicorn workers), in MB."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid)], capture_output=True, text=True)
    own = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True)
    kib = sum(int(x) for x in (out.stdout + own.stdout).split())
    return kib / 1024


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time each process has used so far (from /proc), in seconds."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two readings; a process that started in between counts whole."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def process_ids(*, parent: int | None = None, user: str | None = None) -> list[int]:
    """A process and its children, or every process of a user (``pgrep``)."""
    args = ["-P", str(parent)] if parent is not None else ["-u", str(user)]
    out = subprocess.run(["pgrep", *args], capture_output=True, text=True).stdout.split()
    return ([parent] if parent is not None else []) + [int(x) for x in out]


def annotator_loop(
    base: str, project_id: int, token: str, start: float, stop: float, pace: float = 0.0
) -> dict:
    """One annotator: next + submit until ``stop`` (wall clock), over one keep-alive connection;
    ``pace`` seconds of reading between an item's ``next`` and its submit (0: none, the server
    saturated).

    Runs in its own process with the standard library's HTTP client, as each annotator is a
    separate browser: the load generator should cost the shared 2 cores as little as it can,
    and no client waits on another's GIL (which would count as server latency).
    """
    from http.client import HTTPConnection
    from urllib.parse import urlsplit

    url = urlsplit(base)
    http = HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    next_ms, submit_ms, items, errors, next_at = [], [], [], [], []

    def post(path: str, body: bytes) -> tuple[int, bytes, float]:
        """Status, body and milliseconds of one POST on the kept-alive connection."""
        t0 = time.perf_counter()
        http.request("POST", path, body=body, headers=headers)
        res = http.getresponse()
        data = res.read()
        return res.status, data, (time.perf_counter() - t0) * 1000

    while time.time() < start:
        time.sleep(0.001)
    while time.time() < stop:
        asked = time.time()
        status, data, took_next = post(f"/api/projects/{project_id}/next", b"")
        if status != 200:
            errors.append(f"next {status}")
            break
        item_id = json.loads(data)["item"]["id"]
        if pace:  # people vary: 0.5x to 1.5x the pace, so the annotators do not move in step
            time.sleep(pace * random.uniform(0.5, 1.5))
        body = {
            "labels": ["spam"],
            "client_id": str(uuid.uuid4()),
            "duration_ms": 900,
            "guideline_version": 1,  # the page sends the version it showed
        }
        status, data, took_submit = post(
            f"/api/items/{item_id}/annotations", json.dumps(body).encode()
        )
        if status != 201:
            errors.append(f"submit {status}: {data[:200]!r}")
            break
        next_ms.append(took_next)
        next_at.append(asked)
        submit_ms.append(took_submit)
        items.append(item_id)
    http.close()
    return {
        "next": next_ms,
        "next_at": next_at,
        "submit": submit_ms,
        "items": items,
        "errors": errors,
    }


def drive(base: str, project_id: int, tokens: list[str], seconds: float) -> dict:
    """Each annotator (a process) loops next + submit for ``seconds``; latencies in ms."""
    import multiprocessing

    start = time.time() + 0.5  # every process starts together, after the pool is up
    stop = start + seconds
    args = [(base, project_id, token, start, stop) for token in tokens]
    with multiprocessing.get_context("fork").Pool(len(tokens)) as pool:
        runs = pool.starmap(annotator_loop, args)
    elapsed = seconds
    next_ms = [x for r in runs for x in r["next"]]
    submit_ms = [x for r in runs for x in r["submit"]]
    served = [x for r in runs for x in r["items"]]
    errors = [x for r in runs for x in r["errors"]]

    def pct(values: list[float], q: int) -> float:
        return round(statistics.quantiles(values, n=100)[q - 1], 1) if len(values) > 1 else 0.0

    return {
        "clients": len(tokens),
        "annotations": len(served),
        "per_s": round(len(served) / elapsed, 1),
        "duplicates": len(served) - len(set(served)),
        "next_p50": pct(next_ms, 50),
        "next_p95": pct(next_ms, 95),
        "next_p99": pct(next_ms, 99),
        "submit_p50": pct(submit_ms, 50),
        "submit_p95": pct(submit_ms, 95),
        "submit_p99": pct(submit_ms, 99),
        "errors": errors[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="postgresql", choices=["postgresql", "sqlite"])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--clients", default="1,8,32")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (PostgreSQL)")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.db, Path(tmp)) as url:
        t = time.perf_counter()
        project_id, tokens = seed(url, args.items, max(clients))
        print(f"seeded {args.items:,} items in {time.perf_counter() - t:.1f} s", flush=True)
        port = free_port()
        env = {**os.environ, "LABELAPP_DATABASE_URL": url, "LABELAPP_DATA_DIR": tmp}
        cmd = [str(ROOT / ".venv/bin/labelapp"), "serve", "--port", str(port)]
        if args.db == "postgresql":
            cmd += ["--workers", str(args.workers), "--threads", str(args.threads)]
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115 (closed with the directory)
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            import requests

            for _ in range(100):
                try:
                    if requests.get(f"{base}/api/health", timeout=1).ok:
                        break
                except requests.RequestException:
                    time.sleep(0.2)
            drive(base, project_id, tokens[:1], 2)  # warm up connections and caches
            results = []
            for n in clients:
                # Where the CPU goes, per annotation: the server's processes and the database's
                # (PostgreSQL's backends; SQLite runs inside the server).
                def readings() -> tuple[dict[int, float], dict[int, float]]:
                    db = process_ids(user="postgres") if args.db == "postgresql" else []
                    return cpu_seconds(process_ids(parent=server.pid)), cpu_seconds(db)

                before = readings()
                result = drive(base, project_id, tokens[:n], args.seconds)
                after = readings()
                done = max(1, result["annotations"])
                result["server_cpu_ms"] = round(cpu_used(before[0], after[0]) / done * 1000, 2)
                result["db_cpu_ms"] = round(cpu_used(before[1], after[1]) / done * 1000, 2)
                result["server_mb"] = round(rss_mb(server.pid))
                print(json.dumps(result), flush=True)
                results.append(result)
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
            errors = [
                ln
                for ln in (Path(tmp) / "server.log").read_text().splitlines()
                if "Error" in ln or "Traceback" in ln
            ]
            if errors:
                print("server errors:", *errors[:10], sep="\n  ")
    served_by = "gunicorn gthread" if args.db == "postgresql" else "labelapp serve (threaded)"
    print(
        f"\nMachine: {machine()}; {args.db}, {args.items:,} items, {served_by}, "
        f"{args.seconds:.0f} s per run\n"
    )
    print(
        "| annotators | annotations/s | next p50 / p95 / p99 (ms) | submit p50 / p95 / p99 (ms) "
        "| CPU ms per annotation: server / database "
        "| served twice | server memory (MB) |"
    )
    print("|---:|---:|---|---|---|---:|---:|")
    for r in results:
        print(
            f"| {r['clients']} | {r['per_s']} | {r['next_p50']} / {r['next_p95']} / "
            f"{r['next_p99']} | {r['submit_p50']} / {r['submit_p95']} / {r['submit_p99']} | "
            f"{r['server_cpu_ms']} / {r['db_cpu_ms']} | {r['duplicates']} | {r['server_mb']} |"
        )


if __name__ == "__main__":
    main()
