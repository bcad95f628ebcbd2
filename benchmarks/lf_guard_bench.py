"""Issue 13's probe as a measurement: /api/health latency while an SME previews the backtracking
regex ``(a+)+(?=b)`` over items of 27+ "a"s, and the cost of a sandboxed Python-LF apply.

Serves a fresh SQLite database with the app's threaded server in this process, previews the
pattern from one thread and calls /api/health every 20 ms from another until the preview ends.

    .venv/bin/python benchmarks/lf_guard_bench.py --items 5000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PY_LFS = """
from snorkel.labeling import labeling_function

@labeling_function()
def has_free(x):
    return 1 if "free" in x.text.lower() else -1

@labeling_function()
def short(x):
    return 0 if len(x.text) < 20 else -1
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=5000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lf-guard-bench-"))
    os.environ["LABELAPP_DATA_DIR"] = str(tmp / "data")
    url = f"sqlite:///{tmp / 'bench.sqlite3'}"
    from werkzeug.serving import make_server

    from labelapp.app import create_app
    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.migrate import upgrade
    from labelapp.models import Project
    from labelapp.services.imports import import_path
    from labelapp.services.projects import create_project
    from labelapp.services.users import add_member, create_user
    from labelapp.services.weak.lfs import load_python_lfs
    from labelapp.services.weak.votes import apply_lfs

    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    csv = tmp / "items.csv"
    with csv.open("w") as f:
        f.write("id,text\n")
        for i in range(args.items):
            text = "a" * (27 + i % 4) if i % 2 else f"free stuff number {i} here and a short one"
            f.write(f"t{i},{text}\n")
    with session_scope(sessions) as session:
        project = create_project(session, "bench", ["ham", "spam"])
        user, token = create_user(session, "sme", "sme", password="x" * 12)
        add_member(session, user, project)
        import_path(session, project, csv)
        project_id = project.id
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    health = f"{base}/api/health"

    def latencies(stop: threading.Event | None, n: int = 50) -> list[float]:
        out = []
        while (stop is None and len(out) < n) or (stop is not None and not stop.is_set()):
            started = time.perf_counter()
            requests.get(health, timeout=60).raise_for_status()
            out.append(1000 * (time.perf_counter() - started))
            time.sleep(0.02)
        return out

    idle = latencies(None)
    done = threading.Event()
    result: dict = {}

    def preview() -> None:
        started = time.perf_counter()
        spec = {"kind": "regex", "name": "evil", "label": "spam", "pattern": "(a+)+(?=b)"}
        response = requests.post(
            f"{base}/api/projects/{project_id}/lfs/preview",
            json=spec,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        result.update(
            status=response.status_code,
            seconds=time.perf_counter() - started,
            message=response.json().get("error", {}).get("message", ""),
        )
        done.set()

    threading.Thread(target=preview).start()
    busy = latencies(done)
    server.shutdown()

    def summary(xs: list[float]) -> str:
        xs = sorted(xs)
        return (
            f"n={len(xs)} p50={statistics.median(xs):.1f} ms "
            f"p95={xs[int(0.95 * (len(xs) - 1))]:.1f} ms max={xs[-1]:.1f} ms"
        )

    print(
        f"items: {args.items:,}; regex limit "
        f"{os.environ.get('LABELAPP_REGEX_TIMEOUT_SECONDS', '2 (default)')} s"
    )
    print(f"/api/health idle:            {summary(idle)}")
    print(f"/api/health during preview:  {summary(busy)}")
    print(f"preview: HTTP {result['status']} after {result['seconds']:.2f} s: {result['message']}")

    frame_path = tmp / "lfs.py"
    frame_path.write_text(PY_LFS)
    with session_scope(sessions) as session:
        started = time.perf_counter()
        load_python_lfs(session, session.get(Project, project_id), frame_path, None)
        loaded = time.perf_counter() - started
    started = time.perf_counter()
    applied = apply_lfs(sessions, project_id)
    print(
        f"Python LFs: load (sandbox check) {loaded:.2f} s; apply of 2 LFs to "
        f"{applied['n_items']:,} items in the sandbox {time.perf_counter() - started:.2f} s"
    )


if __name__ == "__main__":
    main()
