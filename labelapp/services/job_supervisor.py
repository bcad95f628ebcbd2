"""One job in a worker: claim its row, run it in a child process, keep its lease, stop it.

The child (:mod:`labelapp.services.job_child`) runs the handler and records done or failed. This
thread renews the job's heartbeat every few seconds, stops the child when the job is cancelled
or passes its kind's time limit (``LABELAPP_JOB_TIME_LIMIT_<KIND>``), and records what the child
could not: that it was killed (out of memory, a signal), then runs it again while attempts are
left. The child dies with the worker (``PR_SET_PDEATHSIG``), so a killed worker leaves no job
running unwatched; the next worker sees the stale heartbeat.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.db import make_engine, make_session_factory, session_scope
from labelapp.models import Job
from labelapp.services import job_queue, job_state

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0
running: set[int] = set()  # jobs this worker process runs now
_running_lock = threading.Lock()


@cache
def worker_sessions(url: str) -> sessionmaker[Session]:
    return make_session_factory(make_engine(url))


def supervise(job_id: int) -> None:
    """Run the queued job ``job_id`` if this worker can claim it."""
    sessions = worker_sessions(config.database_url())
    attempt = job_state.claim(sessions, job_id)
    if attempt is None:
        log.info("job %s: not queued any more (taken, cancelled or finished)", job_id)
        return
    log.info("job %s: attempt %s", job_id, attempt)
    with session_scope(sessions) as session:
        kind = session.scalar(select(Job.kind).where(Job.id == job_id))
    with _running_lock:
        running.add(job_id)
    try:
        _watch(sessions, job_id, attempt, kind, _start_child(job_id, attempt))
    finally:
        with _running_lock:
            running.discard(job_id)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the thread that started it (the worker) dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _start_child(job_id: int, attempt: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "labelapp.services.job_child", str(job_id), str(attempt)]
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return subprocess.Popen(command, preexec_fn=preexec, env={**os.environ})


def _watch(
    sessions: sessionmaker[Session], job_id: int, attempt: int, kind: str, child: subprocess.Popen
) -> None:
    """Heartbeat until the child exits; stop it on cancel or time limit; record a crash."""
    limit = config.job_time_limit(kind)
    started = time.monotonic()
    while True:
        try:
            code = child.wait(timeout=HEARTBEAT_SECONDS)
            break
        except subprocess.TimeoutExpired:
            pass
        mine, cancel = job_state.heartbeat(sessions, job_id, attempt)
        if not mine or cancel:
            _stop(child)
            if cancel:
                job_state.finish(sessions, job_id, attempt, "cancelled", message="cancelled")
            return
        if time.monotonic() - started > limit:
            _stop(child)
            job_state.finish(
                sessions,
                job_id,
                attempt,
                "failed",
                error=(
                    f"the {kind} job ran longer than its time limit of {limit:g} s and was stopped; "
                    f"raise LABELAPP_JOB_TIME_LIMIT_{kind.upper()} if it needs more"
                ),
            )
            return
    if code != 0:
        _record_crash(sessions, job_id, attempt, code)


def _stop(child: subprocess.Popen) -> None:
    child.kill()
    child.wait()


def _record_crash(sessions: sessionmaker[Session], job_id: int, attempt: int, code: int) -> None:
    """The child ended without recording an outcome: run the job again or fail it."""
    how = f"signal {-code}" if code < 0 else f"exit code {code}"
    reason = f"the job's process stopped ({how}; out of memory?)"

    def change(session: Session) -> str:
        job = session.get(Job, job_id)
        if job.status != "running" or job.attempts != attempt:
            return "recorded"
        return job_state.requeue_or_fail(session, job, reason)

    if job_state.persist(sessions, change) == "queued":
        job_queue.send(job_id)
