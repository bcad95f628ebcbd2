"""The retrain of a large project on Dask, part by part (labelapp/services/retrain_parts.py): on
600 real YouTube comments cut into parts of 100, a margin retrain gives the queue the in-process
retrain gives (same items, order, priorities and scores, same held-out metrics), the run says it
ran on Dask and in how many parts, labeled items never get a priority, and a strategy needing
the whole pool (cluster) ranks prefiltered pool items only. The module's LocalCluster runs
them (``LABELAPP_DASK_SCHEDULER`` points at it)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import ModelRun, Project, QueueEntry
from labelapp.services import retrain, retrain_run
from labelapp.services.retrain import retrain_project
from tests.app.factories import add_items, add_labels, make_project, make_user
from tests.app.youtube import demo_comments

N_ITEMS, PART_ITEMS = 600, 100  # 6 parts


@pytest.fixture
def yt(sessions, tmp_path, monkeypatch) -> dict:
    """600 real comments; every 10th (60, spread over every part) labeled with its true class,
    in a shuffled labeling order; TF-IDF features (fitted on every text on both paths)."""
    texts, truth = demo_comments(N_ITEMS)
    order = np.random.default_rng(5).permutation(np.arange(0, N_ITEMS, 10)).tolist()
    project_id = make_project(sessions, "yt", ("ham", "spam"))
    ids = add_items(sessions, project_id, texts, tmp_path)
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    with session_scope(sessions) as session:
        add_labels(session, project_id, ann.id, [ids[i] for i in order], [truth[i] for i in order])
    monkeypatch.setenv("LABELAPP_DASK_PART_ITEMS", str(PART_ITEMS))
    monkeypatch.delenv("LABELAPP_DASK_SCHEDULER", raising=False)
    monkeypatch.delenv("LABELAPP_DASK_MIN_ITEMS", raising=False)
    return {"project": project_id, "ids": ids, "labeled": {ids[i] for i in order}}


def _settings(sessions, project_id: int, **values) -> None:
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        project.featurizer = "tfidf"
        for name, value in values.items():
            setattr(project, name, value)


def _queue(sessions, run: ModelRun) -> list[tuple[int, float, float]]:
    """(item id, priority, score) of the items ``run`` gave a priority, best first."""
    with session_scope(sessions) as session:
        rows = session.execute(
            select(QueueEntry.item_id, QueueEntry.priority, QueueEntry.score)
            .where(QueueEntry.model_run_id == run.id)
            .order_by(QueueEntry.priority.desc(), QueueEntry.position)
        ).all()
        return [(int(i), float(p), float(s)) for i, p, s in rows]


def _on_dask(monkeypatch, scheduler: str) -> None:
    monkeypatch.setenv("LABELAPP_DASK_SCHEDULER", scheduler)


@pytest.mark.slow
@pytest.mark.parametrize(("strategy", "min_top_n"), [("margin", 30), ("committee", None)])
def test_a_retrain_on_dask_gives_the_in_process_queue(
    yt, sessions, monkeypatch, dask_scheduler, strategy, min_top_n
) -> None:
    _settings(sessions, yt["project"], strategy=strategy, batch_size=1)
    if min_top_n:  # fewer than a part's unlabeled items: each part sends only its best
        monkeypatch.setattr(retrain_run, "MIN_TOP_N", min_top_n)
    in_process = retrain_project(sessions, yt["project"])
    expected = _queue(sessions, in_process)

    _on_dask(monkeypatch, dask_scheduler)
    messages: list[str] = []
    on_dask = retrain_project(sessions, yt["project"], progress=lambda f, m: messages.append(m))
    got = _queue(sessions, on_dask)

    top_n = min_top_n or N_ITEMS  # by default every unlabeled item gets a priority
    assert len(got) == min(top_n, N_ITEMS - len(yt["labeled"]))
    assert [(i, p) for i, p, _ in got] == [(i, p) for i, p, _ in expected]
    assert np.allclose([s for *_, s in got], [s for *_, s in expected])
    assert not {i for i, *_ in got} & yt["labeled"]
    assert on_dask.metrics == pytest.approx(in_process.metrics)
    assert on_dask.n_train == in_process.n_train and on_dask.n_eval == in_process.n_eval > 0
    assert in_process.params.get("engine") is None
    assert on_dask.params | {"data_version": None} == {
        "batch_size": 1,
        "top_n": retrain_run.top_n_of(1),
        "data_version": None,
        "featurizer_reason": None,
        "engine": "dask",
        "scheduler": dask_scheduler,
        "n_parts": 6,
        "n_candidates": min(top_n, N_ITEMS - len(yt["labeled"])),
        "prefilter": None,
    }
    assert "6 of 6 parts scored" in messages


@pytest.mark.slow
def test_a_strategy_needing_the_pool_ranks_prefiltered_pool_items(
    yt, sessions, monkeypatch, dask_scheduler
) -> None:
    _settings(sessions, yt["project"], strategy="cluster", batch_size=4)
    monkeypatch.setattr(retrain_run, "MIN_TOP_N", 20)  # 80 items in the queue, 400 candidates
    _on_dask(monkeypatch, dask_scheduler)
    run = retrain_project(sessions, yt["project"])
    got = _queue(sessions, run)
    assert run.strategy == "cluster" and run.params["engine"] == "dask"
    assert run.params["prefilter"] == "margin" and run.params["n_candidates"] == 400
    assert run.params["n_parts"] == 6
    ids = [i for i, *_ in got]
    assert len(ids) == len(set(ids)) == 80
    assert not set(ids) & yt["labeled"] and set(ids) <= set(yt["ids"])
    priorities = [p for _, p, _ in got]
    assert priorities == sorted(priorities, reverse=True) and priorities[0] == 1.0


def test_the_dask_rule_is_the_lf_rule_and_images_stay_in_process(yt, sessions, monkeypatch) -> None:
    assert retrain._dask_applier(sessions, yt["project"]) is None  # 600 < 2,000,000
    monkeypatch.setenv("LABELAPP_DASK_MIN_ITEMS", str(N_ITEMS))
    applier = retrain._dask_applier(sessions, yt["project"])
    assert applier is not None and applier.engine == "dask" and applier.scheduler is None
    monkeypatch.setenv("LABELAPP_DASK_MIN_ITEMS", str(N_ITEMS + 1))
    assert retrain._dask_applier(sessions, yt["project"]) is None
    monkeypatch.setenv("LABELAPP_DASK_SCHEDULER", "tcp://127.0.0.1:1")
    assert retrain._dask_applier(sessions, yt["project"]).scheduler == "tcp://127.0.0.1:1"
    with session_scope(sessions) as session:
        session.get(Project, yt["project"]).task_type = "image"
    assert retrain._dask_applier(sessions, yt["project"]) is None


@pytest.mark.parametrize("gaps", [False, True])
def test_labeled_items_get_their_row_numbers_in_position_order(yt, sessions, gaps) -> None:
    """Which labeled items are held out depends on their row numbers: right from the part
    boundaries when positions are consecutive, and from the positions when some are missing."""
    from sqlalchemy import text

    from labelapp.services.partitions import plan_parts
    from labelapp.services.retrain_parts import _labeled_items

    if gaps:  # e.g. items deleted: every third position missing, the last part too
        with session_scope(sessions) as session:
            session.execute(text("UPDATE items SET position = position * 3 / 2"))
    with session_scope(sessions) as session:
        parts = plan_parts(session, yt["project"])
    order = sorted(yt["labeled"], reverse=True)
    ids, rows, texts = _labeled_items(sessions, order, parts)
    assert ids.tolist() == order and len(texts) == len(order)
    assert rows.tolist() == [yt["ids"].index(i) for i in order]
