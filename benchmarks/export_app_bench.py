"""The app's export path: a project in the database -> resolved labels -> splits -> Parquet ->
splits stored back and a dataset version recorded (``labelapp export``), on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/export_app_bench.py --n 200000 --backends sqlite,postgresql

Items are the synthetic AG-News-like texts of ``export_bench.py`` (duplicates, groups); 70 % get
one annotator's label, 30 % a label-model label (confidence 0.5-1). Building the project is not
timed. Two exports run: the first assigns and stores every split, the second keeps them (the
usual case). Stages: read (labels + items from the database), the library's stages, store.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import backend_workdir, machine, peak_rss_mb  # noqa: E402
from benchmarks.export_bench import make_items  # noqa: E402


def build(url: str, n: int, workdir: Path) -> int:
    """Import n items, then one annotator's labels (70 %) and label-model labels (30 %)."""
    import pandas as pd

    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import Item, Project
    from labelapp.services.bulk import Constant, bulk_insert_columns
    from labelapp.services.imports import ImportOptions, import_path
    from labelapp.services.projects import create_project
    from labelapp.services.users import create_user

    items = make_items(n)
    csv = workdir / "items.csv"
    pd.DataFrame(
        {"id": [f"i{i}" for i in range(n)], "text": items["text"], "group": items["group_key"]}
    ).to_csv(csv, index=False)
    sessions = make_session_factory(make_engine(url))
    with session_scope(sessions) as session:
        project = create_project(session, "bench", ["World", "Sports", "Business", "Sci/Tech"])
        user, _ = create_user(session, "ann", "annotator", password="pw-ann-12345")
        project_id, user_id = project.id, user.id
    with session_scope(sessions) as session:
        import_path(
            session, session.get(Project, project_id), csv, ImportOptions(group_col="group")
        )
    with session_scope(sessions) as session:
        ids = np.array(session.scalars(select_ids(Item, project_id)).all())
        rng = np.random.default_rng(1)
        weak = rng.random(n) < 0.3
        labels = items["label"].to_numpy()
        human = np.flatnonzero(~weak)
        bulk_insert_columns(
            session,
            "annotations",
            {
                "item_id": ids[human],
                "project_id": Constant(project_id),
                "user_id": Constant(user_id),
                "source": Constant("human"),
                "kind": Constant("label"),
                "labels": [json.dumps([x]) for x in labels[human]],
                "created_at": Constant(
                    "2026-01-01 00:00:00.000000"
                    if url.startswith("sqlite")
                    else "2026-01-01T00:00:00+00:00"
                ),
            },
            len(human),
        )
        weak_rows = np.flatnonzero(weak)
        bulk_insert_columns(
            session,
            "prob_labels",
            {
                "item_id": ids[weak_rows],
                "project_id": Constant(project_id),
                "source": Constant("label_model"),
                "probs": Constant("[0.25, 0.25, 0.25, 0.25]"),
                "label": labels[weak_rows].tolist(),
                "confidence": rng.uniform(0.5, 1.0, len(weak_rows)),
                "created_at": Constant(
                    "2026-01-01 00:00:00.000000"
                    if url.startswith("sqlite")
                    else "2026-01-01T00:00:00+00:00"
                ),
            },
            len(weak_rows),
        )
    sessions.kw["bind"].dispose()
    return project_id


def select_ids(item, project_id: int):
    from sqlalchemy import select

    return select(item.id).where(item.project_id == project_id).order_by(item.position)


def time_export(url: str, project_id: int, out: Path) -> dict:
    from labelapp.db import make_engine, make_session_factory
    from labelapp.services.export import ExportRequest, export_project

    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        marks.setdefault(f"{stage}-start", time.perf_counter())
        if done >= total:
            marks[f"{stage}-end"] = time.perf_counter()

    engine = make_engine(url)
    started = time.perf_counter()
    version = export_project(
        make_session_factory(engine),
        project_id,
        ExportRequest(fmt="parquet", min_confidence=0.9),
        out,
        progress=progress,
    )
    total = time.perf_counter() - started
    engine.dispose()
    stages = {
        s: round(marks[f"{s}-end"] - marks[f"{s}-start"], 2)
        for s in ("read", "splits", "write", "manifest", "store")
        if f"{s}-start" in marks and f"{s}-end" in marks
    }
    return {
        "seconds": round(total, 2),
        "items": version.params["n_items"],
        "splits_changed": version.params["splits_changed"],
        "stages": stages,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"# {machine()}; load {os.getloadavg()[0]:.1f}; n={args.n:,}")
    for backend in args.backends.split(","):
        with backend_workdir(backend) as (work, url):
            t0 = time.perf_counter()
            project_id = build(url, args.n, work)
            print(f"{backend}: built in {time.perf_counter() - t0:.1f} s")
            for run in ("first", "second"):
                result = time_export(url, project_id, work / run)
                rate = result["items"] / result["seconds"]
                print(
                    f"{backend} {run} export: {result['seconds']} s for {result['items']:,} "
                    f"items ({rate:,.0f} items/s), {result['splits_changed']:,} splits stored; "
                    f"stages {result['stages']}; peak RSS {peak_rss_mb():,.0f} MB"
                )


if __name__ == "__main__":
    main()
