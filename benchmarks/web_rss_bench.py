"""Web process memory with 1M items: every page and main API route of a large project, served by a
real ``labelapp serve``; the web process's resident memory after each (issue 16: < 150 MB).

Per database: a fresh database, a project with N short texts imported by the bulk importer (in a
child process), a few thousand answers by three annotators (overlap, so agreement and the
adjudication backlog have something to show) and two keyword LFs; then ``labelapp serve`` (one
threaded process, or ``--workers N`` gunicorn workers) starts with its job worker beside it, and
the script logs in and requests each GET page and API route of the project once (reports a job
computes are asked with ``wait=0``: the web serves them, the worker computes them), then, once the
worker has computed the reports, the routes that show them again; then it claims and answers
items. After each request it reads VmRSS of every web process (not the job
worker: its memory is the worker tier's); at the end, VmHWM (peak) and CPU seconds.

    nice -n 10 .venv/bin/python benchmarks/web_rss_bench.py --items 1000000 --dbs sqlite,postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._common import fresh_database, machine  # noqa: E402

TARGET_MB = 150
N_ANSWERED = 3000  # items answered by each of the three annotators
REPORTS = {"api.agreement_report", "api.adjudication_backlog", "api.lf_analysis"}
REPORT_PAGES = {"pages.agreement", "pages.agreement_plot", "pages.lfs_page", "pages.adjudicate"}
SKIP = {  # routes that need an id the project has none of, or that are not the project's
    "api.get_job",
    "api.export_version",
    "api.compare_lf_versions",
    "api.lf_versions",
    "pages.download_version",
    "pages.item_image",
    "admin.import_columns",
    "admin.import_thumbnail",
    "admin.import_job",
    "api.export_diff",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(url: str, items: int, workdir: Path) -> dict:
    """The project: ``items`` texts (bulk import), answers, users; runs in a child process."""
    import random

    from sqlalchemy import select

    from benchmarks.import_bench import make_files
    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import Item
    from labelapp.services.imports import import_path
    from labelapp.services.projects import create_project
    from labelapp.services.users import add_member, create_user
    from tests.app.factories import add_labels

    path = make_files(items, workdir)["csv"]
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    with session_scope(sessions) as session:
        project = create_project(session, "big", ["spam", "ham"], overlap_k=3)
        import_path(session, project, path)
        project_id = project.id
    imported = time.perf_counter() - started
    with session_scope(sessions) as session:
        from labelapp.models import Project

        project = session.get(Project, project_id)
        admin, admin_token = create_user(session, "admin", "admin", password="bench-admin-pw")
        sme, sme_token = create_user(session, "sme", "sme", password="bench-sme-pw")
        people = [
            create_user(session, f"ann{i}", "annotator", password="pw-ann-123") for i in (1, 2, 3)
        ]
        for user in (sme, *(p[0] for p in people)):
            add_member(session, user, project)
        ids = session.scalars(
            select(Item.id).where(Item.project_id == project_id).order_by(Item.id).limit(N_ANSWERED)
        ).all()
        rng = random.Random(0)
        for user, _ in people:
            add_labels(
                session, project_id, user.id, ids, [rng.choice(["spam", "ham"]) for _ in ids]
            )
        first_item = ids[0]
    engine.dispose()
    return {
        "project_id": project_id,
        "item_id": first_item,
        "admin_token": admin_token,
        "sme_token": sme_token,
        "annotator_token": people[0][1],
        "import_seconds": round(imported, 1),
    }


def _status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out[line.split(":")[0]] = int(line.split()[1]) // 1024
    return out


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def web_pids(server: subprocess.Popen) -> list[int]:
    """The web processes: the server, or its gunicorn workers (same command line); not the job
    worker it started (``labelapp worker``) nor that worker's processes."""
    mine = Path(f"/proc/{server.pid}/cmdline").read_bytes()
    pids = []
    for child in Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split():
        try:
            if Path(f"/proc/{child}/cmdline").read_bytes() == mine:
                pids.append(int(child))
        except FileNotFoundError:
            continue
    return pids or [server.pid]


def _routes(world: dict) -> list[tuple[str, str, str]]:
    """(endpoint, URL, who) of every GET route of the project with the ids filled in."""
    from labelapp.app import create_app

    app = create_app({"DATABASE_URL": "sqlite://", "CHECK_SCHEMA": False, "SECRET_KEY": "x"})
    out = []
    with app.test_request_context():
        from flask import url_for

        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint in SKIP:
                continue
            values = {
                "project_id": world["project_id"],
                "item_id": world["item_id"],
                "name": "kappa",
            }
            query = {"wait": 0} if rule.endpoint in REPORTS else {}
            url = url_for(rule.endpoint, **{k: values[k] for k in rule.arguments}, **query)
            who = "page" if not url.startswith("/api/") else "api"
            out.append((rule.endpoint, url, who))
    return out


def serve(url: str, data_dir: Path, workers: int) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "LABELAPP_DATABASE_URL": url, "LABELAPP_DATA_DIR": str(data_dir)}
    command = [sys.executable, "-c", "from labelapp.cli import main; main()", "serve"]
    command += ["--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    import requests

    for _ in range(600):
        try:
            if requests.get(f"{base}/login", timeout=5).status_code == 200:
                return server, base
        except requests.RequestException:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("labelapp serve did not answer")


def _browser(base: str, username: str, password: str):
    import requests

    browser = requests.Session()
    page = browser.get(f"{base}/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    browser.post(
        f"{base}/login", data={"username": username, "password": password, "csrf_token": token}
    )
    return browser


def run(db: str, items: int, workers: int) -> dict:
    import requests

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        data_dir = workdir / "data"
        data_dir.mkdir()
        os.environ["LABELAPP_DATA_DIR"] = str(data_dir)
        with fresh_database(db, workdir) as url:
            out = subprocess.run(
                [sys.executable, __file__, "--build", url, str(items), str(workdir)],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "LABELAPP_DATA_DIR": str(data_dir)},
            )
            world = json.loads(out.stdout.strip().splitlines()[-1])
            server, base = serve(url, data_dir, workers)
            try:
                return _measure(db, items, workers, world, server, base, requests)
            finally:
                server.terminate()
                server.wait(30)


def _measure(db, items, workers, world, server, base, requests) -> dict:
    pid = world["project_id"]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {world['admin_token']}"
    for spec in (
        {"kind": "keyword", "name": "kw_spam", "label": "spam", "keywords": ["free", "win"]},
        {"kind": "keyword", "name": "kw_ham", "label": "ham", "keywords": ["song"]},
    ):
        api.post(f"{base}/api/projects/{pid}/lfs", json=spec, timeout=600)
    browser = _browser(base, "admin", "bench-admin-pw")
    pids = web_pids(server)
    start_rss = max(_status(p)["VmRSS"] for p in pids)
    cpu0 = sum(_cpu_seconds(p) for p in pids)
    rows = []
    for endpoint, url, who in _routes(world):
        client = browser if who == "page" else api
        started = time.perf_counter()
        res = client.get(f"{base}{url}", timeout=600)
        ms = (time.perf_counter() - started) * 1000
        rss = max(_status(p)["VmRSS"] for p in web_pids(server))
        rows.append({"route": endpoint, "status": res.status_code, "ms": round(ms), "rss_mb": rss})
        print(json.dumps(rows[-1]), flush=True)
    # Once the worker has computed the reports, the routes that show them again.
    for url in (f"/api/projects/{pid}/agreement", f"/api/projects/{pid}/lfs/analysis"):
        api.get(f"{base}{url}", params={"wait": 120}, timeout=600)
    routes = _routes(world)
    for endpoint, url, who in [r for r in routes if r[0] in REPORTS | REPORT_PAGES]:
        client = browser if who == "page" else api
        started = time.perf_counter()
        res = client.get(f"{base}{url}", timeout=600)
        ms = (time.perf_counter() - started) * 1000
        rss = max(_status(p)["VmRSS"] for p in web_pids(server))
        rows.append(
            {
                "route": f"{endpoint} (report ready)",
                "status": res.status_code,
                "ms": round(ms),
                "rss_mb": rss,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    annotator = requests.Session()
    annotator.headers["Authorization"] = f"Bearer {world['annotator_token']}"
    for _ in range(3):  # the labeling loop: claim the next item, answer it
        started = time.perf_counter()
        claimed = annotator.post(f"{base}/api/projects/{pid}/next", timeout=600)
        item = claimed.json()["item"]["id"] if claimed.status_code == 200 else None
        if item is not None:
            annotator.post(
                f"{base}/api/items/{item}/annotations",
                json={"labels": ["spam"], "client_id": f"bench-{item}"},
                timeout=600,
            )
        ms = (time.perf_counter() - started) * 1000
        rss = max(_status(p)["VmRSS"] for p in web_pids(server))
        rows.append(
            {
                "route": "next + submit",
                "status": claimed.status_code,
                "ms": round(ms),
                "rss_mb": rss,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    final = [_status(p) for p in web_pids(server)]
    return {
        "db": db,
        "items": items,
        "web_processes": len(final),
        "import_seconds": world["import_seconds"],
        "rss_start_mb": start_rss,
        "rss_end_mb": max(s["VmRSS"] for s in final),
        "peak_mb": max(s["VmHWM"] for s in final),
        "cpu_seconds": round(sum(_cpu_seconds(p) for p in web_pids(server)) - cpu0, 1),
        "requests": len(rows),
        "errors": [r for r in rows if r["status"] >= 500],
        "top": sorted(rows, key=lambda r: -r["rss_mb"])[:5],
        "slowest": sorted(rows, key=lambda r: -r["ms"])[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (0: threaded)")
    parser.add_argument(
        "--build", nargs=3, metavar=("URL", "ITEMS", "WORKDIR"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build(args.build[0], int(args.build[1]), Path(args.build[2]))))
        return
    results = []
    for db in args.dbs.split(","):
        load = os.getloadavg()
        result = run(db, args.items, args.workers)
        result["load_before"] = [round(x, 1) for x in load]
        result["load_after"] = [round(x, 1) for x in os.getloadavg()]
        print(json.dumps(result), flush=True)
        results.append(result)
    print(f"\nMachine: {machine()}\n")
    print("| database | items | web processes | RSS start | RSS end | peak (VmHWM) | CPU s | 5xx |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['db']} | {r['items']:,} | {r['web_processes']} | {r['rss_start_mb']} MB | "
            f"{r['rss_end_mb']} MB | {r['peak_mb']} MB | {r['cpu_seconds']} | {len(r['errors'])} |"
        )
    worst = max(r["peak_mb"] for r in results)
    print(f"\ntarget < {TARGET_MB} MB per web process: {'met' if worst < TARGET_MB else 'NOT met'}")


if __name__ == "__main__":
    main()
