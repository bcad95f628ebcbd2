"""How a job starts quickly (issue 15, point 2): a worker's spare job process, forked from its
fork server and warmed up before the job came, runs it; queueing a job wakes an idle worker on
the embedded queue; a job's progress is written at most every so often."""

from __future__ import annotations

import os
import select
import subprocess
from pathlib import Path

import pytest

from labelapp.db import session_scope
from labelapp.models import Job
from labelapp.services import job_queue, job_state, jobs, local_worker
from tests.app import jobs_kinds
from tests.app.factories import make_project
from tests.app.test_jobs_durable import runs, stop, wait_for

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> set[int]:
    """The process ids whose parent is ``pid`` (Linux /proc)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(c) for c in (task / "children").read_text().split())
    return found


def _grandchildren(pid: int) -> set[int]:
    return {g for child in _children(pid) for g in _children(child)}


@pytest.mark.slow
def test_a_job_runs_in_a_spare_process_forked_before_it_came(
    db_url, sessions, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("LABELAPP_JOB_MODULES", "tests.app.jobs_kinds")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("LABELAPP_QUEUE_URL", raising=False)
    project = make_project(sessions)
    log = tmp_path / "runs.log"
    worker = subprocess.Popen([*local_worker.WORKER_COMMAND, "-c", "1"], cwd=ROOT)
    try:
        wait_for(local_worker.worker_running, 60, "the worker to start")
        # Its fork server (a child) forks the spare once it has imported the job handlers.
        spares = wait_for(lambda: _grandchildren(worker.pid), 120, "the spare job process")
        assert len(spares) == 1
        job, _ = jobs.enqueue(
            sessions, project, jobs_kinds.SLEEP_KIND, {"log": str(log), "seconds": 0.2}
        )
        wait_for(lambda: runs(log, job.id) == (1, 1), 60, "the job to run")
        _, _, ran_in, _, niceness = log.read_text().split("\n")[0].split()
        assert int(ran_in) in spares and int(ran_in) != worker.pid
        # It gives way to the web processes: LABELAPP_JOB_NICE, 10 by default.
        assert int(niceness) == 10 and os.getpriority(os.PRIO_PROCESS, worker.pid) == 0
        # Another spare takes its place for the next job.
        wait_for(lambda: _grandchildren(worker.pid) - spares, 60, "a new spare")
    finally:
        stop(worker)
    with session_scope(sessions) as session:
        assert session.get(Job, job.id).status == "done"


def test_queueing_rings_the_doorbell_of_an_idle_worker(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("LABELAPP_DATA_DIR", str(tmp_path))
    job_queue.wake()  # no worker ever ran here: nothing to wake, no error
    (tmp_path / job_queue.WAKE_FILENAME).write_text("not a FIFO")
    bell = job_queue.Doorbell()  # a stale file in its place is replaced
    try:
        assert not select.select([bell.fd], [], [], 0)[0]
        job_queue.wake()
        assert select.select([bell.fd], [], [], 0)[0]  # an idle thread's wait ends at once
        bell.wait(0)
        assert not select.select([bell.fd], [], [], 0)[0]  # the wake-up was taken
    finally:
        os.close(bell.fd)


def test_progress_is_written_at_most_every_so_often(sessions, monkeypatch) -> None:
    monkeypatch.setattr(job_state, "PROGRESS_SECONDS", 3600.0)
    with session_scope(sessions) as session:
        job = Job(kind="export", status="running", attempts=1)
        session.add(job)
    progress = job_state.Progress(sessions, job.id)

    def shown() -> tuple[float, str]:
        with session_scope(sessions) as session:
            row = session.get(Job, job.id)
            return row.progress, row.message

    before = shown()
    progress(0.25, "read")
    progress(0.5, "write: 500 of 1,000")
    assert shown() == before  # a quick job writes no progress at all
    progress.flush()  # what the timer does once the interval is over: the latest state
    assert shown() == (0.5, "write: 500 of 1,000")
    progress(0.75, "manifest")
    progress.stop()  # the job ended: its outcome is written instead
    progress.flush()
    assert shown() == (0.5, "write: 500 of 1,000")


@pytest.mark.parametrize("raw", ["-5", "20", "low"])
def test_a_job_niceness_out_of_range_is_refused_naming_the_setting(raw, monkeypatch) -> None:
    from labelapp import config

    monkeypatch.setenv("LABELAPP_JOB_NICE", raw)
    with pytest.raises(ValueError, match=r"LABELAPP_JOB_NICE=.* from 0 to 19: give one like 10"):
        config.job_nice()
    monkeypatch.setenv("LABELAPP_JOB_NICE", "0")  # jobs at the web processes' priority
    assert config.job_nice() == 0
    monkeypatch.delenv("LABELAPP_JOB_NICE")
    assert config.job_nice() == 10
