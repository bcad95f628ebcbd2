"""One job in a worker: claim its row, run it in a child process, keep its lease, stop it.

The child (:func:`labelapp.services.job_child.run`) runs the handler and records done or failed.
It is forked by a fork server (:mod:`multiprocessing.forkserver`) that the worker starts once
and that has the job handlers and the libraries quick jobs need already imported
(:data:`WARM_MODULES`): a job starts in milliseconds instead of a fresh interpreter's seconds of
imports. This thread renews the job's heartbeat every few seconds, stops the child when the job
is cancelled or passes its kind's time limit (``LABELAPP_JOB_TIME_LIMIT_<KIND>``), and records
what the child could not: that it was killed (out of memory, a signal), then runs it again while
attempts are left. The child dies with the worker, so a killed worker leaves no job running
unwatched; the next worker sees the stale heartbeat.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from functools import cache
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.db import driver_modules, make_engine, make_session_factory, session_scope
from labelapp.models import Job
from labelapp.services import job_child, job_queue, job_state, jobs

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0
# Imported once in the fork server besides the job handlers and the database driver: the
# libraries of the quick jobs that people wait for, with the parts they import lazily (an export:
# pandas, pyarrow's parquet reader and pandas conversion, the split report's scipy.special). The
# learning stack stays lazy (a retrain runs for seconds; its imports are a small part of it).
WARM_MODULES = (
    "labelapp.export",
    "pyarrow.dataset",
    "pyarrow.pandas_compat",
    "scipy.special",
)
_FORKS = multiprocessing.get_context("forkserver")
running: set[int] = set()  # jobs this worker process runs now
_running_lock = threading.Lock()


@cache
def worker_sessions(url: str) -> sessionmaker[Session]:
    return make_session_factory(make_engine(url))


def supervise(job_id: int) -> None:
    """Run the queued job ``job_id`` if this worker can claim it."""
    with _running_lock:
        running.add(job_id)
    try:
        # Claimed only once job processes can start: a claimed job's lease must be renewed.
        _ready.wait()
        _supervise(job_id)
    finally:
        with _running_lock:
            running.discard(job_id)


def _supervise(job_id: int) -> None:
    sessions = worker_sessions(config.database_url())
    attempt = job_state.claim(sessions, job_id)
    if attempt is None:
        log.info("job %s: not queued any more (taken, cancelled or finished)", job_id)
        return
    log.info("job %s: attempt %s", job_id, attempt)
    with session_scope(sessions) as session:
        kind = session.scalar(select(Job.kind).where(Job.id == job_id))
    try:
        _watch(sessions, job_id, attempt, kind, _start_child(job_id, attempt))
    finally:
        _top_up()  # a spare for the next job


_ready = threading.Event()  # the fork server runs (set unless start() is under way)
_ready.set()


def start(spares: int) -> None:
    """Start the fork server and ``spares`` spare job processes in the background (its imports
    take seconds): the worker takes messages meanwhile, and its jobs are claimed once it is up."""
    _ready.clear()

    def run() -> None:
        try:
            start_fork_server(spares)
        except Exception:
            log.exception("the job fork server did not start; jobs start without it")
        finally:
            _ready.set()

    threading.Thread(target=run, name="labelapp-fork-server", daemon=True).start()


def start_fork_server(spares: int) -> None:
    """Start the fork server unless it runs, and keep ``spares`` warm job processes (forking the
    first waits until the fork server has imported its modules)."""
    global _wanted
    _ensure_fork_server()
    _wanted = spares
    _top_up()


def _ensure_fork_server() -> None:
    """The fork server, started with its modules to import unless it runs."""
    from multiprocessing import forkserver

    preload = [
        *driver_modules(config.database_url()),
        job_child.__name__,
        *WARM_MODULES,
        *jobs.HANDLER_MODULES,
        *config.job_modules(),
    ]
    # "__main__": the worker's script (the console script), imported there and not in each job.
    _FORKS.set_forkserver_preload(["__main__", *preload])
    forkserver.ensure_running()


def stop_all() -> None:
    """The worker stops: its spare job processes end, and the jobs still running are killed
    (after SIGTERM; SIGINT waits for them): they run again on the next worker once their lease
    is over."""
    _stopping.set()
    with _spares_lock:
        spares = list(_spares)
        _spares.clear()
    for spare in spares:
        spare.jobs.close()
    for child in multiprocessing.active_children():
        child.kill()


class _Spare(NamedTuple):
    process: BaseProcess
    jobs: Connection  # where this worker sends it its job


_spares: list[_Spare] = []
_spares_lock = threading.Lock()
_stopping = threading.Event()  # the worker stops: no more spares
_wanted = 0  # spares to keep (each holds some memory: a worker keeps one by default)
_top_up_lock = threading.Lock()


def _top_up() -> None:
    """Fork spares until there are as many as wanted."""
    with _top_up_lock:
        while len(_spares) < _wanted and not _stopping.is_set():
            _add_spare()


def _add_spare() -> None:
    """Fork a spare job process (:func:`job_child.serve`): it warms up while it waits."""
    if _stopping.is_set():
        return
    reader, writer = _FORKS.Pipe(duplex=False)
    process = _FORKS.Process(target=job_child.serve, args=(reader,), name="labelapp-job")
    process.start()
    reader.close()
    with _spares_lock:
        if not _stopping.is_set():
            _spares.append(_Spare(process, writer))
            return
    writer.close()
    _stop(process)


def _start_child(job_id: int, attempt: int) -> BaseProcess:
    """The job's process: a spare one given the job, or (none left alive) a new one."""
    while True:
        with _spares_lock:
            spare = _spares.pop(0) if _spares else None
        if spare is None:
            break
        try:
            spare.jobs.send((job_id, attempt))
            return spare.process
        except OSError:  # it died (killed, out of memory): take another
            _stop(spare.process)
        finally:
            spare.jobs.close()
    _ensure_fork_server()
    child = _FORKS.Process(
        target=job_child.run, args=(job_id, attempt), name=f"labelapp-job-{job_id}"
    )
    child.start()
    return child


def _watch(
    sessions: sessionmaker[Session], job_id: int, attempt: int, kind: str, child: BaseProcess
) -> None:
    """Heartbeat until the child exits; stop it on cancel or time limit; record a crash."""
    limit = config.job_time_limit(kind)
    started = time.monotonic()
    try:
        while True:
            child.join(HEARTBEAT_SECONDS)
            if child.exitcode is not None:
                break
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
                        f"the {kind} job ran longer than its time limit of {limit:g} s and was "
                        f"stopped; raise LABELAPP_JOB_TIME_LIMIT_{kind.upper()} if it needs more"
                    ),
                )
                return
        if child.exitcode != 0:
            _record_crash(sessions, job_id, attempt, child.exitcode)
    finally:
        if child.exitcode is None:  # this thread failed: leave no job running unwatched
            _stop(child)


def _stop(child: BaseProcess) -> None:
    child.kill()
    child.join()


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
