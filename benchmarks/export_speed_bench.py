"""Export of the 1,000 labeled items of a 100,000-item project through the API, job included:
``POST /api/projects/{id}/exports`` (csv) until the client has the finished job (the POST's
answer when the export ends within LABELAPP_EXPORT_WAIT_SECONDS, else by polling
``GET /api/jobs/{id}``), on SQLite and PostgreSQL. Target (issue 15): under 0.3 s. Also the
export service alone, without the job.

    nice -n 10 .venv/bin/python benchmarks/export_speed_bench.py --n 100000 --labeled 1000 --runs 5

The project is built through the importer (not timed); one annotator labels ``--labeled`` items.
A first export starts the app's local worker and is not counted; then ``--runs`` exports,
``--pause`` seconds apart (as a user's: the worker's spare job process is warm again; 0: back to
back). Each exports again (the usual case: splits already stored). Printed: the median and max
time, the CPU seconds per export of this process (web and client) and of the worker's process
tree (worker, fork server, job processes, and the warm-up of the spare that replaces the one a
job used), and the median of each stage from the job row's timestamps. ``--profile`` prints the
top functions of one service-level export (cProfile). The service is also timed without the
drift report that issue 20 added to each export's manifest (``drift_from_previous`` stubbed out
in this process only), to show the share of each part.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import backend_workdir, machine  # noqa: E402

LABELS = ["World", "Sports", "Business", "Sci/Tech"]


def build(url: str, n: int, labeled: int, workdir: Path) -> tuple[int, str]:
    """n items, ``labeled`` of them with an annotator's label; returns (project id, sme token)."""
    import pandas as pd
    from sqlalchemy import select

    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import Item, Project
    from labelapp.services.bulk import Constant, bulk_insert_columns
    from labelapp.services.imports import ImportOptions, import_path
    from labelapp.services.projects import create_project
    from labelapp.services.users import add_member, create_user

    csv = workdir / "items.csv"
    pd.DataFrame(
        {
            "id": [f"i{i}" for i in range(n)],
            "text": [f"item {i} about {LABELS[i % 4]} and topic {i % 977}" for i in range(n)],
            "group": [f"g{i % 5000}" for i in range(n)],
        }
    ).to_csv(csv, index=False)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        project = create_project(session, "bench", LABELS)
        ann, _ = create_user(session, "ann", "annotator", password="pw-ann-12345")
        sme, token = create_user(session, "sam", "sme", password="pw-sam-12345")
        add_member(session, sme, project)
        project_id, ann_id = project.id, ann.id
    with session_scope(sessions) as session:
        import_path(
            session, session.get(Project, project_id), csv, ImportOptions(group_col="group")
        )
    with session_scope(sessions) as session:
        ids = session.scalars(
            select(Item.id)
            .where(Item.project_id == project_id)
            .order_by(Item.position)
            .limit(labeled)
        ).all()
        stamp = (
            "2026-01-01 00:00:00.000000"
            if url.startswith("sqlite")
            else "2026-01-01T00:00:00+00:00"
        )
        bulk_insert_columns(
            session,
            "annotations",
            {
                "item_id": list(ids),
                "project_id": Constant(project_id),
                "user_id": Constant(ann_id),
                "source": Constant("human"),
                "kind": Constant("label"),
                "labels": [json.dumps([LABELS[k % 4]]) for k in range(len(ids))],
                "created_at": Constant(stamp),
            },
            len(ids),
        )
    engine.dispose()
    return project_id, token


def api_export(client, project_id: int, headers: dict) -> dict:
    """One export through the API: seconds from the POST to the job seen finished, the POST's
    status (201: answered finished; 202: polled), the job id and the wall clock at the POST."""
    posted = time.time()
    started = time.perf_counter()
    answer = client.post(
        f"/api/projects/{project_id}/exports", headers=headers, json={"format": "csv"}
    )
    job = answer.get_json()
    while job["status"] not in ("done", "failed"):
        time.sleep(0.005)
        job = client.get(f"/api/jobs/{job['id']}", headers=headers).get_json()
    elapsed = time.perf_counter() - started
    if job["status"] != "done":
        raise SystemExit(f"export job failed: {job}")
    return {"seconds": elapsed, "status": answer.status_code, "job": job["id"], "posted": posted}


STAGES = (
    ("request to job row", "the POST until its job row is written (queued)"),
    ("queue pick-up", "job row written until a worker claims it (queue, consumer poll)"),
    ("job process", "claimed until done, less the handler: job to a spare process, outcome"),
    ("export handler", "the export itself (labels, rows, splits, files, version)"),
    ("answer", "done until the client has it (the POST's wait loop or polling, HTTP)"),
)


Process = tuple[int, int]  # (pid, start time): a pid can be reused, the pair cannot


def descendants_cpu(pid: int | None = None) -> dict[Process, tuple[Process | None, float]]:
    """Per descendant of this process (the worker, its fork server with the job processes it has
    reaped, the spare job process): its parent and CPU seconds, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[Process, tuple[Process | None, float]] = {}

    def visit(parent: int, parent_key: Process | None) -> None:
        for task in Path(f"/proc/{parent}/task").iterdir():
            for child in map(int, (task / "children").read_text().split()):
                try:
                    fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
                except FileNotFoundError:
                    continue
                key = (child, int(fields[19]))  # starttime
                # utime stime cutime cstime: a reaped child's CPU moves to its parent's cutime
                found[key] = (parent_key, sum(int(x) for x in fields[11:15]) / tick)
                visit(child, key)

    visit(pid or os.getpid(), None)
    return found


def cpu_since(before: dict[Process, tuple[Process | None, float]]) -> float:
    """CPU seconds the descendants used since ``before``. A process reaped since by one still
    there (a job process, by the fork server) counts only its CPU after ``before``; one whose
    parent is gone too (a previous worker) is left out."""
    now = descendants_cpu()
    used = sum(cpu - before.get(key, (None, 0.0))[1] for key, (_, cpu) in now.items())
    return used - sum(cpu for key, (up, cpu) in before.items() if key not in now and up in now)


def stage_times(url: str, run: dict) -> list[float]:
    """The run's seconds per stage (:data:`STAGES`), from the job row's timestamps."""
    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import Job

    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as session:
        job = session.get(Job, run["job"])
        created, claimed, finished = (
            t.timestamp() for t in (job.created_at, job.started_at, job.finished_at)
        )
        handler = float(job.result["seconds"])
        run["handler_cpu"] = float(job.result["cpu_seconds"])
    engine.dispose()
    end = run["posted"] + run["seconds"]
    return [
        created - run["posted"],
        claimed - created,
        finished - claimed - handler,
        handler,
        end - finished,
    ]


def service_export(url: str, project_id: int, out: Path, profile: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of one export through the service, without the job machinery."""
    from labelapp.db import make_engine, make_session_factory
    from labelapp.services.export import ExportRequest, export_project

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    cpu = time.process_time()
    if profile:
        import cProfile
        import pstats

        with cProfile.Profile() as prof:
            export_project(sessions, project_id, ExportRequest(fmt="csv"), out)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
    else:
        export_project(sessions, project_id, ExportRequest(fmt="csv"), out)
    elapsed = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--labeled", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--pause", type=float, default=2.0, help="seconds between exports (not timed)"
    )
    args = parser.parse_args()
    print(f"# {machine()}; load {os.getloadavg()[0]:.1f}; n={args.n:,}, labeled={args.labeled:,}")
    for backend in args.backends.split(","):
        with backend_workdir(backend) as (work, url):
            t0 = time.perf_counter()
            project_id, token = build(url, args.n, args.labeled, work)
            print(f"{backend}: built in {time.perf_counter() - t0:.1f} s")
            from labelapp.app import create_app

            app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
            client = app.test_client()
            headers = {"Authorization": f"Bearer {token}"}
            api_export(client, project_id, headers)  # starts the worker: not counted
            cpu = time.process_time(), descendants_cpu()
            runs = []
            for _ in range(args.runs):
                time.sleep(args.pause)  # a user's exports come apart (the worker gets ready)
                runs.append(api_export(client, project_id, headers))
            web_cpu = (time.process_time() - cpu[0]) / args.runs
            job_cpu = cpu_since(cpu[1]) / args.runs
            times = [r["seconds"] for r in runs]
            stages = [stage_times(url, r) for r in runs]
            service = [
                service_export(url, project_id, work / f"s{k}", args.profile and k == 0)
                for k in range(3)
            ]
            from labelapp.services.drift import service as drift

            real, drift.drift_from_previous = drift.drift_from_previous, lambda *a, **k: None
            bare = [service_export(url, project_id, work / f"b{k}", False) for k in range(3)]
            drift.drift_from_previous = real
            print(
                f"{backend}: API export, job included: median {statistics.median(times):.3f} s, "
                f"max {max(times):.3f} s over {len(times)} runs (a first run not counted; POST "
                f"answers {sorted(r['status'] for r in runs)}); CPU per export "
                f"{web_cpu + job_cpu:.3f} s ({web_cpu:.3f} s web and client, {job_cpu:.3f} s "
                f"worker and job process); service alone: median "
                f"{statistics.median(w for w, _ in service):.3f} s wall, "
                f"{statistics.median(c for _, c in service):.3f} s CPU; service without the "
                f"drift report: median {statistics.median(w for w, _ in bare):.3f} s"
            )
            for k, (name, what) in enumerate(STAGES):
                values = [s[k] for s in stages]
                print(
                    f"  {name:<20} median {statistics.median(values) * 1000:7.1f} ms "
                    f"(max {max(values) * 1000:7.1f} ms): {what}"
                )
            handler_cpu = statistics.median(r["handler_cpu"] for r in runs)
            print(f"  export handler CPU median {handler_cpu * 1000:.1f} ms")
            print(f"  load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
