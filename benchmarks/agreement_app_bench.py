"""The agreement page's report on a real crowd (D_Product) and a larger synthetic project.

Loads the answers into a throwaway database as a project's annotations (spread over five weeks,
half under guideline version 1 and half under version 2), then times the service the page, the
API and ``labelapp agreement report`` call: cold (first request), warm (cached), the open
adjudication backlog, and the page's four PNG plots, which it saves for a look.

    .venv/bin/python benchmarks/agreement_app_bench.py \\
        [--dbs sqlite,postgresql] [--synthetic 100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import fresh_database, machine, peak_rss_mb
from tests.paths import SHARED_DATA

OUT = Path(__file__).parent / "results" / "agreement_app"
START = datetime(2026, 1, 5, tzinfo=UTC)


def crowd() -> tuple[pd.DataFrame, pd.Series]:
    """D_Product answers (question, worker, answer) and truth, labels as "0"/"1"."""
    answers = pd.read_csv(SHARED_DATA / "crowd" / "D_Product" / "answer.csv", dtype=str)
    truth = pd.read_csv(SHARED_DATA / "crowd" / "D_Product" / "truth.csv", dtype=str)
    return answers, truth.set_index("question")["truth"]


def synthetic(n_items: int, seed: int = 0) -> pd.DataFrame:
    """n_items x 3 answers from 30 annotators of varying accuracy over 3 labels."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n_items)
    accuracy = rng.uniform(0.6, 0.95, 30)
    rows = []
    for k in range(3):
        who = (np.arange(n_items) * 7 + k * 11) % 30
        right = rng.random(n_items) < accuracy[who]
        label = np.where(right, truth, rng.integers(0, 3, n_items))
        rows.append(
            pd.DataFrame(
                {
                    "question": np.arange(n_items).astype(str),
                    "worker": [f"w{w}" for w in who],
                    "answer": label.astype(str),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def load(url: str, name: str, answers: pd.DataFrame, labels: list[str], workdir: Path) -> int:
    """A project with the answers' items and users, the answers as annotations; its id."""
    from sqlalchemy import insert, select

    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import Annotation, Item, Project, User
    from labelapp.services.imports import import_path
    from labelapp.services.projects import create_project, save_guideline

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    questions = answers["question"].unique()
    csv = workdir / f"{name}.csv"
    pd.DataFrame(
        {"id": questions, "text": [f"product pair {q.rsplit('_', 1)[0]}" for q in questions]}
    ).to_csv(csv, index=False)
    with session_scope(sessions) as session:
        project = create_project(session, name, labels, overlap_k=3)
        import_path(session, project, csv)
        save_guideline(session, project, "version 2", None)
        project_id = project.id
    with session_scope(sessions) as session:
        workers = sorted(answers["worker"].unique())
        session.execute(insert(User), [{"username": w, "role": "annotator"} for w in workers])
        users = dict(session.execute(select(User.username, User.id)).all())
        items = dict(
            session.execute(
                select(Item.external_id, Item.id).where(Item.project_id == project_id)
            ).all()
        )
        order = np.random.default_rng(1).permutation(len(answers))
        when = [
            START + timedelta(minutes=int(m))
            for m in np.sort(np.random.default_rng(2).integers(0, 35 * 24 * 60, len(answers)))
        ]
        rows = answers.iloc[order]
        session.execute(
            insert(Annotation),
            [
                {
                    "item_id": items[q],
                    "project_id": project_id,
                    "user_id": users[w],
                    "kind": "label",
                    "labels": [a],
                    "created_at": t,
                    "guideline_version": 1 if i < len(rows) // 2 else 2,
                }
                for i, (q, w, a, t) in enumerate(
                    zip(rows["question"], rows["worker"], rows["answer"], when, strict=True)
                )
            ],
        )
        assert session.get(Project, project_id) is not None
    engine.dispose()
    return project_id


def measure(url: str, project_id: int, save_plots: bool) -> dict:
    from labelapp.db import make_engine, make_session_factory, session_scope
    from labelapp.models import Project
    from labelapp.services import agreement as service
    from labelapp.web.agreement import PLOTS, plot_png

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    out: dict = {}
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        t = time.perf_counter()
        result = service.project_agreement(session, project)
        out["cold_s"] = time.perf_counter() - t
        t = time.perf_counter()
        service.project_agreement(session, project)
        out["warm_s"] = time.perf_counter() - t
        t = time.perf_counter()
        no_model = service.project_agreement(session, project, with_model=False, use_cache=False)
        out["no_model_s"] = time.perf_counter() - t
        t = time.perf_counter()
        backlog = service.open_backlog(session, result, limit=100).total
        out["backlog_s"] = time.perf_counter() - t
        t = time.perf_counter()
        data = service.agreement_dict(session, result)
        out["json_s"] = time.perf_counter() - t
        t = time.perf_counter()
        pngs = {name: plot_png(result, name) for name in PLOTS}
        out["plots_s"] = time.perf_counter() - t
        if save_plots:
            OUT.mkdir(parents=True, exist_ok=True)
            for name, png in pngs.items():
                (OUT / f"{project.name}-{name}.png").write_bytes(png)
    report = data["report"]
    model = data["model"]
    out.update(
        answers=report["n_answers"],
        items=report["n_items"],
        annotators=report["n_annotators"],
        backlog=backlog,
        percent=report["percent_agreement"]["estimate"],
        alpha=report["krippendorff_alpha"]["nominal"]["estimate"],
        human=next(r["human"] for r in report["human_level"] if r["label"] == "overall"),
        model=model["table"][0]["model"] if model and model.get("available") else None,
        model_s_est=out["cold_s"] - out["no_model_s"],
        report_s=no_model.seconds,
    )
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--synthetic", type=int, default=100_000)
    args = parser.parse_args()
    answers, truth = crowd()
    sets = [("d_product", answers, ["0", "1"])]
    if args.synthetic:
        sets.append((f"synthetic_{args.synthetic}", synthetic(args.synthetic), ["0", "1", "2"]))
    print(f"machine: {machine()}")
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.dbs.split(","):
            for name, frame, labels in sets:
                with fresh_database(kind, Path(tmp)) as url:
                    t = time.perf_counter()
                    project_id = load(url, name, frame, labels, Path(tmp))
                    load_s = time.perf_counter() - t
                    r = measure(url, project_id, save_plots=kind == "sqlite")
                model = "-" if r["model"] is None else f"{r['model']:.3f}"
                line = (
                    f"| {name} | {kind} | {r['answers']:,} | {r['items']:,} | {r['annotators']} | "
                    f"{r['cold_s']:.2f} | {r['no_model_s']:.2f} | {r['warm_s'] * 1000:.0f} ms | "
                    f"{r['backlog_s'] * 1000:.0f} ms | {r['plots_s']:.2f} | {r['backlog']:,} | "
                    f"{r['percent']:.3f} | {r['alpha']:.3f} | {r['human']:.3f} | "
                    f"{model} |"
                )
                print(f"{name} on {kind}: loaded in {load_s:.1f} s; {r}", flush=True)
                lines.append(line)
    print(
        "\n| data | db | answers | items | annotators | cold s (with model) | cold s (no model) "
        "| warm | backlog | 4 PNGs s | backlog items | percent | alpha | human level | model |"
    )
    print("|" + "---|" * 15)
    print("\n".join(lines))
    print(f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
