"""The review list's speed: a project with ``--n`` items (30 % answered by one annotator, 5 % of
those by a second who disagrees half the time, a label-issue scan scoring every answered item,
0.1 % flagged); ``GET /api/projects/{id}/review`` for a filtered, sorted first page and the next
page (keyset cursor), p50 and p95 over ``--repeat`` calls each, with the CPU seconds of this
process (Flask and the driver) per call. Target (issue 15): under 200 ms p95 on PostgreSQL with
1,000,000 items.

The answers, scan and flags are bulk-inserted behind the services' back (a million answers
through the API would take hours), so the build then rebuilds the resolved-label table the list
reads, as ``labelapp db refresh-labels`` does (timed: the cost of a whole-project refresh).
``--explain`` prints PostgreSQL's plan of each query's two statements (count and page).

    nice -n 10 .venv/bin/python benchmarks/review_bench.py --n 1000000 --backends postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._common import backend_workdir, machine  # noqa: E402

QUERIES = {
    "no filter, by issue score": "sort=issue_score&limit=50",
    "label=spam, by issue score": "label=spam&sort=issue_score&limit=50",
    "source=human, by issue score": "source=human&sort=issue_score&limit=50",
    "disagreement, by issue score": "disagreement=true&sort=issue_score&limit=50",
    "flagged, by issue score": "flagged=true&sort=issue_score&limit=50",
    "issue score >= 0.9, by issue score": "min_score=0.9&sort=issue_score&limit=50",
    "label=spam, source=human, by confidence": "label=spam&source=human&sort=confidence&limit=50",
    "no label, by item (ascending)": "unlabeled=true&sort=item&order=asc&limit=50",
}


def build(url: str, n: int, workdir: Path) -> tuple[int, str]:
    """The project; returns (project id, an sme's token)."""
    import pandas as pd
    from sqlalchemy import select

    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import Item, LabelIssueRun, Project
    from labelapp.services.bulk import Constant, bulk_insert_columns
    from labelapp.services.imports import ImportOptions, import_path
    from labelapp.services.labels import refresh_item_labels
    from labelapp.services.projects import create_project
    from labelapp.services.table_stats import analyze_after_bulk_write
    from labelapp.services.users import add_member, create_user

    csv = workdir / "items.csv"
    pd.DataFrame(
        {
            "id": [f"i{i}" for i in range(n)],
            "text": [f"comment {i} about topic {i % 997}" for i in range(n)],
        }
    ).to_csv(csv, index=False)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        project = create_project(session, "bench", ["ham", "spam"])
        ann, _ = create_user(session, "ann", "annotator", password="pw-ann-12345")
        bob, _ = create_user(session, "bob", "annotator", password="pw-bob-12345")
        sme, token = create_user(session, "sam", "sme", password="pw-sam-12345")
        add_member(session, sme, project)
        pid, ann_id, bob_id = project.id, ann.id, bob.id
    with timed("import (items, queue, resolved-label rows)"), session_scope(sessions) as session:
        import_path(session, session.get(Project, pid), csv, ImportOptions())
    stamp = (
        "2026-01-01 00:00:00.000000" if url.startswith("sqlite") else "2026-01-01T00:00:00+00:00"
    )
    rng = np.random.default_rng(0)
    with session_scope(sessions) as session:
        ids = np.array(
            session.scalars(select(Item.id).where(Item.project_id == pid).order_by(Item.id)).all()
        )
        answered = ids[rng.random(n) < 0.3]
        labels = np.where(rng.random(len(answered)) < 0.5, "spam", "ham")
        _answers(session, pid, ann_id, answered, labels, stamp)
        second = rng.random(len(answered)) < 0.05
        flip = np.where(
            rng.random(second.sum()) < 0.5,
            labels[second],
            np.where(labels[second] == "spam", "ham", "spam"),
        )
        _answers(session, pid, bob_id, answered[second], flip, stamp)
        run = LabelIssueRun(project_id=pid, n_scored=len(answered), n_flagged=0)
        session.add(run)
        session.flush()
        bulk_insert_columns(
            session,
            "label_issues",
            {
                "run_id": Constant(run.id),
                "item_id": answered,
                "label": labels.tolist(),
                "suggested": np.where(labels == "spam", "ham", "spam").tolist(),
                "score": rng.random(len(answered)),
                "flagged": Constant(False),
                "reasons": Constant(json.dumps(["out-of-sample probability"])),
            },
            len(answered),
        )
        flagged = ids[rng.random(n) < 0.001]
        bulk_insert_columns(
            session,
            "flags",
            {
                "project_id": Constant(pid),
                "item_id": flagged,
                "user_id": Constant(ann_id),
                "reason": Constant("other"),
                "comment": Constant(""),
                "created_at": Constant(stamp),
                "client_id": [f"f{i}" for i in range(len(flagged))],
            },
            len(flagged),
        )
        # Planner statistics, as the services' bulk writes (imports, scans) leave them.
        analyze_after_bulk_write(session, ("annotations", "label_issues", "flags"), n)
    with timed("whole-project refresh of the resolved labels"), session_scope(sessions) as session:
        refresh_item_labels(session, session.get(Project, pid))
    engine.dispose()
    return pid, token


def vacuum(url: str) -> None:
    """VACUUM item_labels, as autovacuum does some time after a bulk write: its visibility map
    then lets the page counts read the indexes alone."""
    from labelapp.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE item_labels")
    finally:
        engine.dispose()


@contextmanager
def timed(what: str) -> Iterator[None]:
    """Print the wall and CPU seconds of this process of the block."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    print(
        f"  {what}: {time.perf_counter() - wall:,.1f} s wall, "
        f"{time.process_time() - cpu:,.1f} s CPU (this process)",
        flush=True,
    )


def _answers(session, pid: int, user_id: int, items, labels, stamp: str) -> None:
    from labelapp.services.bulk import Constant, bulk_insert_columns

    bulk_insert_columns(
        session,
        "annotations",
        {
            "item_id": items,
            "project_id": Constant(pid),
            "user_id": Constant(user_id),
            "source": Constant("human"),
            "kind": Constant("label"),
            "labels": [json.dumps([x]) for x in labels],
            "created_at": Constant(stamp),
        },
        len(items),
    )


def measure(client, pid: int, headers: dict, query: str, repeat: int) -> dict[str, float]:
    first, second, cpu = [], [], []
    for _ in range(repeat):
        c, t = time.process_time(), time.perf_counter()
        page = client.get(f"/api/projects/{pid}/review?{query}", headers=headers).get_json()
        first.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        if page.get("next_after"):
            c, t = time.process_time(), time.perf_counter()
            client.get(
                f"/api/projects/{pid}/review?{query}&after={page['next_after']}", headers=headers
            )
            second.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
    p95 = lambda xs: float(np.percentile(xs, 95)) if xs else float("nan")  # noqa: E731
    return {
        "first_p50": statistics.median(first),
        "first_p95": p95(first),
        "next_p50": statistics.median(second) if second else float("nan"),
        "next_p95": p95(second),
        "cpu": statistics.median(cpu),
        "total": float(page["total"]),
        "more": 0.0 if page["total_exact"] else 1.0,
    }


def explain(url: str, pid: int, query: str) -> list[str]:
    """PostgreSQL's plans (EXPLAIN ANALYZE) of the query's count and first-page statements."""
    from urllib.parse import parse_qsl

    from labelapp.api.review_items import review_filter
    from labelapp.api.schemas.review_items import ReviewQuery
    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import Project
    from labelapp.services.review import page_queries

    parsed = ReviewQuery.model_validate(dict(parse_qsl(query)))
    engine = make_engine(url)
    lines = []
    try:
        with session_scope(make_session_factory(engine)) as session:
            project = session.get(Project, pid)
            statements = page_queries(
                session,
                project,
                review_filter(parsed),
                parsed.sort,
                parsed.order == "desc",
                None,
                parsed.limit,
            )
            for statement in statements:
                sql = statement.compile(engine, compile_kwargs={"literal_binds": True})
                plan = session.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}")
                lines += [f"    {row[0]}" for row in plan]
    finally:
        engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--backends", default="postgresql")
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL's plans")
    parser.add_argument(
        "--vacuum",
        action="store_true",
        help="then VACUUM item_labels (as autovacuum would) and measure again",
    )
    args = parser.parse_args()
    print(f"# {machine()}; load {os.getloadavg()[0]:.1f}; n={args.n:,}", flush=True)
    for backend in args.backends.split(","):
        with backend_workdir(backend) as (work, url):
            t0 = time.perf_counter()
            pid, token = build(url, args.n, work)
            print(f"{backend}: built in {time.perf_counter() - t0:.0f} s", flush=True)
            from labelapp.app import create_app

            client = create_app(
                {"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True}
            ).test_client()
            headers = {"Authorization": f"Bearer {token}"}
            rounds = ["right after the build"]
            if args.vacuum and backend == "postgresql":
                rounds.append("after VACUUM item_labels")
            for n_round, title in enumerate(rounds):
                if n_round:
                    vacuum(url)
                print(f"## {title}; load {os.getloadavg()[0]:.1f}", flush=True)
                for name, query in QUERIES.items():
                    r = measure(client, pid, headers, query, args.repeat)
                    print(
                        f"{backend} {name} ({'> ' if r['more'] else ''}{r['total']:,.0f} items): "
                        f"first page p50 "
                        f"{r['first_p50'] * 1000:,.1f} ms, p95 {r['first_p95'] * 1000:,.1f} ms; "
                        f"next page p50 {r['next_p50'] * 1000:,.1f} ms, p95 "
                        f"{r['next_p95'] * 1000:,.1f} ms; CPU {r['cpu'] * 1000:,.1f} ms per call",
                        flush=True,
                    )
                    if args.explain and backend == "postgresql":
                        print("\n".join(explain(url, pid, query)), flush=True)
                print(f"load {os.getloadavg()[0]:.1f} after the queries", flush=True)


if __name__ == "__main__":
    main()
