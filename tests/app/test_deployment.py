"""The team layout of the README on one machine (issue 16): PostgreSQL, Redis as the job queue,
one ``labelapp serve --workers 2`` (two gunicorn web processes) and two ``labelapp worker``s.
Jobs of several projects run while annotators label through the web processes; one worker is
killed mid-job. Every job ends done, none runs twice at once, and no label is lost."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import requests

from labelapp.db import make_engine, make_session_factory, session_scope
from labelapp.models import Annotation, Job, Project
from labelapp.services import jobs, local_worker
from labelapp.services.projects import update_settings
from tests.app import jobs_kinds
from tests.app.factories import add_items, make_project, make_user
from tests.app.test_jobs_durable import ROOT, kill9, row, runs, stop, wait_for

REDIS = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError:
        return False
    return True


@pytest.fixture
def team_env(pg_migrated: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    if not _redis_up():
        pytest.fail("Redis must run on 127.0.0.1:6379 for the deployment test (.ci/run starts it)")
    from tests.conftest import _truncate_all

    _truncate_all(pg_migrated)
    data = tmp_path / "data"
    data.mkdir()
    for name, value in {
        "LABELAPP_DATABASE_URL": pg_migrated,
        "LABELAPP_DATA_DIR": str(data),
        "LABELAPP_QUEUE_URL": REDIS,
        "LABELAPP_QUEUE_NAME": f"test-{uuid.uuid4().hex[:8]}",
        "LABELAPP_JOB_MODULES": "tests.app.jobs_kinds",
        "LABELAPP_JOB_LEASE_SECONDS": "3",
        "PYTHONPATH": str(ROOT),
    }.items():
        monkeypatch.setenv(name, value)
    return pg_migrated


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _label(base: str, project_id: int, token: str, done: list[int]) -> None:
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    while (
        res := http.post(f"{base}/api/projects/{project_id}/next", timeout=60)
    ).status_code == 200:
        item_id = res.json()["item"]["id"]
        body = {"labels": ["spam" if item_id % 2 else "ham"], "client_id": str(uuid.uuid4())}
        assert http.post(f"{base}/api/items/{item_id}/annotations", json=body, timeout=60).ok
        done.append(item_id)


@pytest.mark.slow
def test_two_web_processes_two_workers_redis_and_a_killed_worker(team_env, tmp_path) -> None:
    sessions = make_session_factory(make_engine(team_env))
    projects = [make_project(sessions, f"team-{i}") for i in range(4)]
    with session_scope(sessions) as session:  # labels start retrains (every 20) on the workers
        update_settings(
            session.get(Project, projects[0]), {"featurizer": "tfidf", "retrain_every": 20}
        )
    items = add_items(
        sessions,
        projects[0],
        [f"text {i} {'buy' if i % 2 else 'song'}" for i in range(60)],
        tmp_path,
    )
    people = [make_user(sessions, f"t{i}", "annotator", (projects[0],)) for i in range(2)]
    port = _free_port()
    labelapp = str(Path(sys.executable).with_name("labelapp"))  # the installed command
    web = subprocess.Popen(
        [labelapp, "serve", "--port", str(port), "--workers", "2", "--threads", "4"], cwd=ROOT
    )
    workers = [
        subprocess.Popen([*local_worker.WORKER_COMMAND, "-c", "2"], cwd=ROOT) for _ in range(2)
    ]
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "runs.log"
    try:
        wait_for(lambda: _up(base), 120, "the web processes")
        queued = [
            jobs.enqueue(sessions, p, jobs_kinds.SLEEP_KIND, {"log": str(log), "seconds": 3})[0]
            for p in projects
        ]
        wait_for(lambda: sum(runs(log, j.id)[0] for j in queued) >= 4, 60, "4 jobs on 2 workers")
        victim = next(w for w in workers if _runs_a_job(sessions, w.pid, queued))
        labeled: list[list[int]] = [[], []]
        threads = [
            threading.Thread(target=_label, args=(base, projects[0], p.token, labeled[i]))
            for i, p in enumerate(people)
        ]
        for thread in threads:
            thread.start()
        kill9(victim)
        for thread in threads:
            thread.join(120)
        wait_for(
            lambda: _all_finished(sessions),
            90,
            "every job (the 4 and the retrains the labels started) to finish",
        )
    finally:
        for proc in (web, *workers):
            stop(proc)
    attempts = []
    for job in queued:
        starts, ends = runs(log, job.id)
        attempts.append(row(sessions, job.id).attempts)
        assert ends == 1 and starts == attempts[-1]  # every run claimed the row: never two at once
    assert 1 <= attempts.count(2) <= 2 and attempts.count(1) + attempts.count(2) == 4
    assert sorted(labeled[0] + labeled[1]) == sorted(items)
    with session_scope(sessions) as session:
        stored = session.query(Annotation).filter(Annotation.project_id == projects[0]).count()
        assert stored == len(items)
        unfinished = [
            (j.kind, j.status, j.error) for j in session.query(Job).filter(Job.status != "done")
        ]
        assert unfinished == []
        assert session.query(Job).filter(Job.kind == "retrain").count() >= 1


def _all_finished(sessions) -> bool:
    with session_scope(sessions) as session:
        return session.query(Job).filter(Job.status.in_(("queued", "running"))).count() == 0


def _up(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _runs_a_job(sessions, pid: int, queued: list) -> bool:
    return any((row(sessions, j.id).worker or "").endswith(f":{pid}") for j in queued)
