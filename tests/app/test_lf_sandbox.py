"""Issue 13, rows 3 and 4 as the probe ran them against the app: a backtracking regex previewed
through a real HTTP server does not stall it, Python LFs that attack the server are stopped and
fail their job naming the LF and the limit, and one project's slow LF job does not hold up
another project's export."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import Job, LabelingFunction, Project, WeakLabel
from labelapp.services import jobs
from labelapp.services.errors import UserError
from labelapp.services.export import job as export_job_module
from labelapp.services.weak.lfs import load_python_lfs
from tests.app.factories import add_items, add_labels, make_project, make_user

pytestmark = pytest.mark.one_backend  # its subject is not storage (tests/conftest.py)

EVIL = "(a+)+(?=b)"  # RE2 lacks lookaheads; Python's re backtracks 2^n steps on n "a"s


@pytest.fixture
def project(sessions, tmp_path):
    project_id = make_project(sessions, "probe", ("ham", "spam"))
    add_items(
        sessions, project_id, ["a" * 27, "a" * 30, "ab", "free stuff here", "nice song"], tmp_path
    )
    sme = make_user(sessions, "sme", "sme", (project_id,))
    return project_id, sme


@pytest.mark.slow
def test_backtracking_preview_is_refused_while_health_answers(server, project, monkeypatch) -> None:
    monkeypatch.setenv("LABELAPP_REGEX_TIMEOUT_SECONDS", "3")
    project_id, sme = project
    spec = {"kind": "regex", "name": "evil", "label": "spam", "pattern": EVIL}
    answer: dict = {}

    def preview() -> None:
        started = time.monotonic()
        answer["response"] = requests.post(
            f"{server}/api/projects/{project_id}/lfs/preview",
            json=spec,
            headers=sme.headers,
            timeout=60,
        )
        answer["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=preview)
    thread.start()
    time.sleep(0.8)  # the preview is now running its pattern
    health_times = []
    for _ in range(5):
        started = time.monotonic()
        assert requests.get(f"{server}/api/health", timeout=10).status_code == 200
        health_times.append(time.monotonic() - started)
        time.sleep(0.1)
    in_flight = thread.is_alive()
    thread.join(60)
    assert in_flight, "the preview should still run while health answers"
    assert max(health_times) < 1.0, health_times  # before: stalled ~17 s behind the preview
    response = answer["response"]
    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert "took longer than 3 s" in message and "LABELAPP_REGEX_TIMEOUT_SECONDS" in message
    assert "avoid nested quantifiers" in message
    assert answer["seconds"] < 3 + 7  # the limit and a margin; before: ~17 s


@pytest.mark.slow
def test_saving_a_backtracking_regex_is_refused_and_a_lookaround_still_works(
    client, project, sessions, monkeypatch
) -> None:
    monkeypatch.setenv("LABELAPP_REGEX_TIMEOUT_SECONDS", "2")
    project_id, sme = project
    url = f"/api/projects/{project_id}/lfs"
    refused = client.post(
        url,
        json={"kind": "regex", "name": "evil", "label": "spam", "pattern": EVIL},
        headers=sme.headers,
    )
    assert refused.status_code == 400
    assert "took longer than 2 s" in refused.get_json()["error"]["message"]
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(LabelingFunction)) == 0
    good = {"kind": "regex", "name": "a_then_b", "label": "spam", "pattern": "a(?=b)"}
    previewed = client.post(f"{url}/preview", json=good, headers=sme.headers).get_json()
    assert [h["external_id"] for h in previewed["hits"]] == ["t2"]  # "ab" only
    assert client.post(url, json=good, headers=sme.headers).status_code == 201


def load_source(sessions, project_id: int, tmp_path: Path, source: str) -> None:
    path = tmp_path / "sme_lfs.py"
    path.write_text(source)
    with session_scope(sessions) as session:
        load_python_lfs(session, session.get(Project, project_id), path, None)


def run_apply_job(sessions, project_id: int) -> Job:
    """An apply job run to its end as the job worker runs it (in this process, so the limits
    set by the test apply)."""
    with session_scope(sessions) as session:
        job = Job(project_id=project_id, kind="ws_apply", params={})
        session.add(job)
        session.flush()
        job_id = job.id
    jobs.run(sessions, job_id)
    with session_scope(sessions) as session:
        job = session.get(Job, job_id)
        session.expunge(job)
    return job


def lf(name: str, body: str) -> str:
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f"\n@labeling_function()\ndef {name}(x):\n{lines}\n    return 1\n"


HEADER = "from snorkel.labeling import labeling_function\n"
GOOD = lf("has_free", "if 'free' not in x.text:\n    return -1")


@pytest.mark.parametrize(
    ("name", "body", "env", "expected"),
    [
        (
            "reads_passwd",
            "open('/etc/passwd').read()",
            {},
            "LF 'reads_passwd' failed: PermissionError: sandbox: reading '",
        ),  # the job error
        # shows file names without their directories (jobs.py), here 'passwd'; see below
        (
            "runs_id",
            "import subprocess\nsubprocess.run(['id'])",
            {},
            "LF 'runs_id' failed: PermissionError: sandbox: subprocess.Popen is not allowed",
        ),
        (
            "big_alloc",
            "b = bytearray(1 << 30)",
            {},
            "LF 'big_alloc' exceeded the 768 MB memory limit (LABELAPP_LF_MEMORY_MB)",
        ),
        (
            "slow_lf",
            "while True:\n    pass",
            {"LABELAPP_LF_WALL_SECONDS": "10"},
            "LF 'slow_lf' exceeded the 10 s wall-time limit (LABELAPP_LF_WALL_SECONDS)",
        ),
    ],
    ids=["passwd", "spawn", "memory", "loop"],
)
def test_attacking_python_lfs_fail_their_job_by_name_and_limit(
    name, body, env, expected, project, sessions, tmp_path, monkeypatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    project_id, _ = project
    load_source(sessions, project_id, tmp_path, HEADER + GOOD + lf(name, body))
    started = time.monotonic()
    job = run_apply_job(sessions, project_id)
    assert job.status == "failed"
    assert job.error.startswith(expected), job.error
    if name == "reads_passwd":
        assert "passwd' is not allowed" in job.error
    assert time.monotonic() - started < 60
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(WeakLabel)) == 0


@pytest.mark.slow
def test_a_well_behaved_python_lf_applies_in_the_sandbox(project, sessions, tmp_path) -> None:
    project_id, _ = project
    load_source(sessions, project_id, tmp_path, HEADER + GOOD)
    job = run_apply_job(sessions, project_id)
    assert job.status == "done", job.error
    with session_scope(sessions) as session:
        votes = session.execute(select(WeakLabel.vote)).scalars().all()
    assert votes == [1]  # "free stuff here"


@pytest.mark.slow
def test_cli_load_does_not_run_the_file_in_the_server(project, sessions, tmp_path) -> None:
    project_id, _ = project
    marker = tmp_path / "ran_in_server"
    source = f"open({str(marker)!r}, 'w').write('x')\n" + HEADER + GOOD
    with pytest.raises(UserError, match="while loading.*is not allowed"):
        load_source(sessions, project_id, tmp_path, source)
    assert not marker.exists()
    with session_scope(sessions) as session:
        assert session.scalar(select(func.count()).select_from(LabelingFunction)) == 0


@pytest.mark.slow
def test_a_slow_lf_job_does_not_hold_up_another_projects_export(sessions, tmp_path) -> None:
    assert "export" in jobs.HANDLERS, (
        export_job_module
    )  # importing the export service registers its job
    slow = make_project(sessions, "slow", ("ham", "spam"))
    add_items(sessions, slow, ["one", "two"], tmp_path)
    load_source(sessions, slow, tmp_path, HEADER + lf("sleepy", "import time\ntime.sleep(4)"))
    other = make_project(sessions, "other", ("ham", "spam"))
    ids = add_items(sessions, other, [f"text {i}" for i in range(30)], tmp_path)
    user = make_user(sessions, "ann", "annotator", (other,))
    with session_scope(sessions) as session:
        add_labels(session, other, user.id, ids, ["spam", "ham"] * 15)
    slow_job, slow_future = jobs.enqueue(sessions, slow, "ws_apply")
    deadline = time.monotonic() + 60
    while _status(sessions, slow_job.id) != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    export_job, export_future = jobs.enqueue(sessions, other, "export", {"format": "csv"})
    export_future.result(timeout=60)
    assert _status(sessions, export_job.id) == "done", _error(sessions, export_job.id)
    assert _status(sessions, slow_job.id) == "running"  # the export did not wait for it
    slow_future.result(timeout=120)
    assert _status(sessions, slow_job.id) == "done", _error(sessions, slow_job.id)


def _status(sessions, job_id: int) -> str:
    with session_scope(sessions) as session:
        return session.get(Job, job_id).status


def _error(sessions, job_id: int) -> str | None:
    with session_scope(sessions) as session:
        return session.get(Job, job_id).error
