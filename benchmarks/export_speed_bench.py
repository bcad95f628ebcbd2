"""Export of the 1,000 labeled items of a 100,000-item project through the API, job included:
``POST /api/projects/{id}/exports`` (csv) until ``GET /api/jobs/{id}`` says done, on SQLite and
PostgreSQL. Target (issue 15): under 0.3 s. Also the export service alone, without the job.

    nice -n 10 .venv/bin/python benchmarks/export_speed_bench.py --n 100000 --labeled 1000 --runs 5

The project is built through the importer (not timed); one annotator labels ``--labeled`` items.
Each run exports again (the usual case: splits already stored). ``--profile`` prints the top
functions of one service-level export (cProfile). The service is also timed without the drift
report that issue 20 added to each export's manifest (``drift_from_previous`` stubbed out in this
process only), to show the share of each part.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import fresh_database, machine  # noqa: E402

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


def api_export(client, project_id: int, headers: dict) -> float:
    """Seconds from the POST to the job reported done."""
    started = time.perf_counter()
    job = client.post(
        f"/api/projects/{project_id}/exports", headers=headers, json={"format": "csv"}
    ).get_json()
    while job["status"] not in ("done", "failed"):
        time.sleep(0.005)
        job = client.get(f"/api/jobs/{job['id']}", headers=headers).get_json()
    elapsed = time.perf_counter() - started
    if job["status"] != "done":
        raise SystemExit(f"export job failed: {job}")
    return elapsed


def service_export(url: str, project_id: int, out: Path, profile: bool) -> float:
    from labelapp.db import make_engine, make_session_factory
    from labelapp.services.export import ExportRequest, export_project

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    started = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        with cProfile.Profile() as prof:
            export_project(sessions, project_id, ExportRequest(fmt="csv"), out)
        pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
    else:
        export_project(sessions, project_id, ExportRequest(fmt="csv"), out)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--labeled", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print(f"# {machine()}; load {os.getloadavg()[0]:.1f}; n={args.n:,}, labeled={args.labeled:,}")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
            os.environ["LABELAPP_DATA_DIR"] = str(Path(tmp) / "data")
            t0 = time.perf_counter()
            project_id, token = build(url, args.n, args.labeled, Path(tmp))
            print(f"{backend}: built in {time.perf_counter() - t0:.1f} s")
            from labelapp.app import create_app

            app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
            client = app.test_client()
            headers = {"Authorization": f"Bearer {token}"}
            times = [api_export(client, project_id, headers) for _ in range(args.runs + 1)][1:]
            service = [
                service_export(url, project_id, Path(tmp) / f"s{k}", args.profile and k == 0)
                for k in range(3)
            ]
            from labelapp.services.drift import service as drift

            real, drift.drift_from_previous = drift.drift_from_previous, lambda *a, **k: None
            bare = [service_export(url, project_id, Path(tmp) / f"b{k}", False) for k in range(3)]
            drift.drift_from_previous = real
            print(
                f"{backend}: API export, job included: median {statistics.median(times):.3f} s, "
                f"max {max(times):.3f} s over {len(times)} runs (first run not counted); "
                f"service alone: median {statistics.median(service):.3f} s; service without "
                f"the drift report: median {statistics.median(bare):.3f} s"
            )


if __name__ == "__main__":
    main()
