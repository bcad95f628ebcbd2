"""Durable, exclusive jobs (issue 16) with real worker processes: kill -9 of a worker mid-job,
retries, a clear failure after the last attempt, cancellation, time limits, one active job per
project and kind enforced by the database, and state changes that outlast a locked SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import event, exc

from labelapp.db import make_engine, make_session_factory, session_scope
from labelapp.models import Job
from labelapp.services import job_state, jobs, local_worker
from tests.app import jobs_kinds
from tests.app.factories import make_project, make_user

ROOT = Path(__file__).resolve().parents[2]
KIND = jobs_kinds.SLEEP_KIND


@pytest.fixture
def job_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Workers that know the test job kind and give up on a silent worker after 3 s."""
    monkeypatch.setenv("LABELAPP_JOB_MODULES", "tests.app.jobs_kinds")
    monkeypatch.setenv("LABELAPP_JOB_LEASE_SECONDS", "3")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("LABELAPP_QUEUE_URL", raising=False)
    return db_url


def start_worker(concurrency: int = 2) -> subprocess.Popen:
    """``labelapp worker`` as a real process; returns once it serves the data directory."""
    proc = subprocess.Popen([*local_worker.WORKER_COMMAND, "-c", str(concurrency)], cwd=ROOT)
    wait_for(local_worker.worker_running, 30, "the worker to start")
    return proc


def kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        proc.wait(30)


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def row(sessions, job_id: int) -> Job:
    with session_scope(sessions) as session:
        return session.get(Job, job_id)


def sleep_job(sessions, project_id: int, log: Path, seconds: float) -> Job:
    job, handle = jobs.enqueue(sessions, project_id, KIND, {"log": str(log), "seconds": seconds})
    assert handle is not None
    return job


def runs(log: Path, job_id: int) -> tuple[int, int]:
    """(starts, ends) of the job in its log."""
    lines = log.read_text().splitlines() if log.exists() else []
    return (
        sum(line.startswith(f"start {job_id} ") for line in lines),
        sum(line.startswith(f"end {job_id} ") for line in lines),
    )


@pytest.mark.slow
def test_a_killed_workers_jobs_run_again_on_the_next_worker(job_env, sessions, tmp_path) -> None:
    first, second = make_project(sessions, "one"), make_project(sessions, "two")
    log = tmp_path / "runs.log"
    worker = start_worker(concurrency=2)
    try:
        a, b = sleep_job(sessions, first, log, 4), sleep_job(sessions, second, log, 4)
        # Jobs of different projects run side by side, up to the worker's concurrency.
        wait_for(lambda: runs(log, a.id)[0] and runs(log, b.id)[0], 30, "both jobs to start")
        assert {row(sessions, a.id).status, row(sessions, b.id).status} == {"running"}
        kill9(worker)
        time.sleep(1)
        # The job processes died with their worker: nothing finished, nothing runs unwatched.
        assert runs(log, a.id) == (1, 0) and runs(log, b.id) == (1, 0)
        assert row(sessions, a.id).status == "running"  # until the lease runs out
        worker = start_worker(concurrency=2)
        wait_for(
            lambda: {row(sessions, a.id).status, row(sessions, b.id).status} == {"done"},
            40,
            "the next worker to run both jobs again",
        )
    finally:
        stop(worker)
    for job_id in (a.id, b.id):
        job = row(sessions, job_id)
        assert (job.attempts, job.result["slept"]) == (2, 4)
        assert runs(log, job_id) == (2, 1)


@pytest.mark.slow
def test_a_job_killed_on_its_last_attempt_fails_with_a_clear_message(
    job_env, sessions, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("LABELAPP_JOB_ATTEMPTS", "1")
    project = make_project(sessions)
    log = tmp_path / "runs.log"
    worker = start_worker(concurrency=1)
    try:
        job = sleep_job(sessions, project, log, 30)
        wait_for(lambda: runs(log, job.id)[0], 30, "the job to start")
        kill9(worker)
        started = time.monotonic()
        # Asking for the same kind again does not return the dead job once its lease is over.
        wait_for(
            lambda: job_state.lease_expired_before() > row(sessions, job.id).heartbeat_at,
            10,
            "the lease to run out",
        )
        again, handle = jobs.enqueue(sessions, project, KIND, {"log": str(log), "seconds": 0.2})
        assert handle is not None and again.id != job.id
        dead = row(sessions, job.id)
        assert dead.status == "failed" and time.monotonic() - started < 60
        assert "worker running this job" in dead.error and "1 attempts" in dead.error
        assert handle.result(timeout=40).status == "done"  # a worker started by itself ran it
    finally:
        stop(worker)


@pytest.mark.slow
def test_jobs_are_cancelled_and_stopped_at_their_time_limit(
    job_env, sessions, tmp_path, monkeypatch, app
) -> None:
    one, two, three = (
        make_project(sessions, "a"),
        make_project(sessions, "b"),
        make_project(sessions, "c"),
    )
    sme = make_user(sessions, "sam", "sme", (one, two, three))
    log = tmp_path / "runs.log"
    worker = start_worker(concurrency=1)
    client = app.test_client()
    try:
        running = sleep_job(sessions, one, log, 20)
        wait_for(lambda: runs(log, running.id)[0], 30, "the first job to start")
        queued = sleep_job(sessions, two, log, 1)  # waits: the worker runs one job at once
        answer = client.post(f"/api/jobs/{queued.id}/cancel", headers=sme.headers)
        assert answer.status_code == 200 and answer.get_json()["status"] == "cancelled"
        answer = client.post(f"/api/jobs/{running.id}/cancel", headers=sme.headers)
        assert answer.status_code == 200 and answer.get_json()["status"] == "running"
        wait_for(lambda: row(sessions, running.id).status == "cancelled", 10, "the cancel")
        stop(worker)  # a worker whose settings give this kind 6 s
        monkeypatch.setenv(f"LABELAPP_JOB_TIME_LIMIT_{KIND.upper()}", "6")
        worker = start_worker(concurrency=1)
        slow = sleep_job(sessions, three, log, 30)
        # 60 s: the new worker's fork server imports the job handlers first (seconds, loaded).
        wait_for(lambda: row(sessions, slow.id).status == "failed", 60, "the time limit")
        assert "longer than its time limit of 6 s" in row(sessions, slow.id).error
        assert "LABELAPP_JOB_TIME_LIMIT_TEST_SLEEP" in row(sessions, slow.id).error
    finally:
        stop(worker)
    assert runs(log, running.id) == (1, 0) and runs(log, queued.id) == (0, 0)
    assert runs(log, slow.id)[1] == 0  # stopped: it never got to its end


@pytest.mark.slow
def test_the_database_allows_one_active_job_per_project_and_kind(
    job_env, sessions, tmp_path
) -> None:
    project = make_project(sessions)
    log = tmp_path / "runs.log"
    others = make_session_factory(make_engine(job_env))
    barrier = threading.Barrier(8)
    results: list[tuple[Job, object]] = []

    def ask() -> None:
        barrier.wait()
        results.append(jobs.enqueue(others, project, KIND, {"log": str(log), "seconds": 0.5}))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == 8 and len({job.id for job, _ in results}) == 1
    assert sum(handle is not None for _, handle in results) == 1
    with pytest.raises(exc.IntegrityError), session_scope(sessions) as session:
        session.add(Job(project_id=project, kind=KIND, status="queued"))
    handle = next(h for _, h in results if h is not None)
    assert handle.result(timeout=60).status == "done"
    assert runs(log, results[0][0].id) == (1, 1)


@pytest.mark.slow
def test_a_state_change_outlasts_a_locked_sqlite_database(tmp_path, monkeypatch) -> None:
    from labelapp import db
    from labelapp.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'locked.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _short_busy_timeout(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    monkeypatch.setattr(db, "WRITE_LOCK_ATTEMPTS", 1)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        job = Job(kind="export", status="queued")
        session.add(job)
    holder = make_engine(url).raw_connection()
    holder.execute("BEGIN IMMEDIATE")  # another process writing for 1.5 s

    def release() -> None:
        time.sleep(1.5)
        holder.execute("COMMIT")

    threading.Thread(target=release).start()
    started = time.monotonic()
    attempt = job_state.claim(sessions, job.id)
    assert attempt == 1 and time.monotonic() - started >= 1.0
    assert job_state.finish(sessions, job.id, attempt, "done", result={"ok": True})
    assert row(sessions, job.id).status == "done"
    holder.close()
    engine.dispose()
