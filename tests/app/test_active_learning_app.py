"""Labels submitted through the API trigger a retrain that reorders the queue (real data)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select

import labelapp
from labelapp.db import session_scope
from labelapp.models import Item, Project, QueueEntry
from labelapp.services.imports import ImportOptions, import_path
from tests.app.factories import make_project, make_user

pytestmark = pytest.mark.one_backend  # its subject is not storage (tests/conftest.py)

DEMO_CSV = Path(labelapp.__file__).parent / "demo_data" / "youtube_spam.csv"


def head_of_queue(sessions, project_id: int, n: int = 10) -> list[int]:
    with session_scope(sessions) as session:
        return list(
            session.scalars(
                select(QueueEntry.item_id)
                .where(QueueEntry.project_id == project_id, QueueEntry.remaining > 0)
                .order_by(QueueEntry.priority.desc(), QueueEntry.position)
                .limit(n)
            )
        )


def wait_for_runs(client, project_id: int, who, count: int, timeout: float = 120) -> list:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = client.get(f"/api/projects/{project_id}/model-runs", headers=who.headers).get_json()
        if len(runs["model_runs"]) >= count:
            return runs["model_runs"]
        time.sleep(0.3)
    raise AssertionError(f"no model run after {timeout} s")


@pytest.mark.slow
def test_labels_trigger_a_retrain_that_reorders_the_queue(client, sessions, tmp_path) -> None:
    frame = pd.read_csv(DEMO_CSV).drop_duplicates("COMMENT_ID").head(400)
    truth = dict(zip(frame["COMMENT_ID"], frame["CLASS"].map({0: "ham", 1: "spam"}), strict=True))
    path = tmp_path / "comments.csv"
    frame.to_csv(path, index=False)
    project_id = make_project(sessions, "yt", ("ham", "spam"))
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        project.retrain_every, project.batch_size = 30, 10
        import_path(session, project, path, ImportOptions(text_col="CONTENT", id_col="COMMENT_ID"))
    alice = make_user(sessions, "alice", "annotator", (project_id,))
    lead = make_user(sessions, "lead", "sme", (project_id,))  # model runs are for reviewers

    for _ in range(30):
        claim = client.post(f"/api/projects/{project_id}/next", headers=alice.headers).get_json()
        assert claim["queued_by"]["strategy"] is None  # import order until a model exists
        item = claim["item"]
        body = {"labels": [truth[item["external_id"]]], "client_id": str(uuid.uuid4())}
        res = client.post(f"/api/items/{item['id']}/annotations", json=body, headers=alice.headers)
        assert res.status_code == 201

    runs = wait_for_runs(client, project_id, lead, 1)
    assert runs[0]["strategy"] == "auto" and runs[0]["n_train"] > 0
    after = head_of_queue(sessions, project_id)
    with session_scope(sessions) as session:
        import_order = list(
            session.scalars(
                select(Item.id)
                .join(QueueEntry, QueueEntry.item_id == Item.id)
                .where(Item.project_id == project_id, QueueEntry.remaining > 0)
                .order_by(Item.position)
                .limit(10)
            )
        )
    assert after != import_order  # the model, not import order, now decides
    claim = client.post(f"/api/projects/{project_id}/next", headers=alice.headers).get_json()
    assert claim["queued_by"]["strategy"] == "auto"
    assert claim["queued_by"]["model_run_id"] == runs[0]["id"]
    assert claim["queued_by"]["score"] >= 0
    assert claim["item"]["id"] == after[0]


@pytest.mark.slow
def test_retrain_on_demand_needs_sme_and_two_classes(client, sessions, tmp_path) -> None:
    project_id = make_project(sessions, "empty", ("ham", "spam"))
    path = tmp_path / "few.csv"
    path.write_text("id,text\na,hello\nb,buy now\n")
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), path)
    annotator = make_user(sessions, "ann", "annotator", (project_id,))
    sme = make_user(sessions, "sme", "sme", (project_id,))
    denied = client.post(f"/api/projects/{project_id}/retrain", headers=annotator.headers)
    assert denied.status_code == 403
    started = client.post(f"/api/projects/{project_id}/retrain", headers=sme.headers)
    assert started.status_code == 202
    job_id = started.get_json()["id"]
    deadline = time.monotonic() + 60
    while (job := client.get(f"/api/jobs/{job_id}", headers=sme.headers).get_json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["status"] == "failed"
    assert "at least 2 classes" in job["error"]


def test_settings_are_checked(client, sessions) -> None:
    project_id = make_project(sessions, "s", ("a", "b"))
    admin = make_user(sessions, "root", "admin")
    ok = client.patch(
        f"/api/projects/{project_id}",
        json={"strategy": "cluster", "batch_size": 25, "retrain_every": 100},
        headers=admin.headers,
    )
    assert ok.status_code == 200 and ok.get_json()["strategy"] == "cluster"
    bad = client.patch(
        f"/api/projects/{project_id}", json={"strategy": "psychic"}, headers=admin.headers
    )
    assert bad.status_code == 400 and "margin" in bad.get_json()["error"]["message"]
    annotator = make_user(sessions, "ann", "annotator", (project_id,))
    assert (
        client.patch(
            f"/api/projects/{project_id}", json={"batch_size": 5}, headers=annotator.headers
        ).status_code
        == 403
    )


def test_image_projects_retrain_on_pixels(client, sessions, tmp_path) -> None:
    from PIL import Image
    from sklearn.datasets import load_digits

    from labelapp.services.retrain import retrain_project

    digits = load_digits()
    folder = tmp_path / "digits"
    folder.mkdir()
    truth = {}
    for i in [i for i, t in enumerate(digits.target) if t in (0, 1)][:60]:
        name = f"d{i}.png"
        Image.fromarray((digits.images[i] * 15).astype("uint8"), mode="L").save(folder / name)
        truth[name] = str(digits.target[i])
    project_id = make_project(sessions, "digits", ("0", "1"), task_type="image")
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), folder)
    alice = make_user(sessions, "alice", "annotator", (project_id,))
    for _ in range(20):
        item = client.post(f"/api/projects/{project_id}/next", headers=alice.headers).get_json()[
            "item"
        ]
        body = {"labels": [truth[item["external_id"]]], "client_id": str(uuid.uuid4())}
        assert (
            client.post(
                f"/api/items/{item['id']}/annotations", json=body, headers=alice.headers
            ).status_code
            == 201
        )
    run = retrain_project(sessions, project_id)
    assert run.featurizer == "pixels" and run.n_train > 0
    claim = client.post(f"/api/projects/{project_id}/next", headers=alice.headers).get_json()
    assert claim["queued_by"]["model_run_id"] == run.id
