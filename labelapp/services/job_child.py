"""The process one job runs in, forked by the worker's fork server (:mod:`job_supervisor`).

The fork server has imported the job handlers and the libraries quick jobs need, so a job's
process starts in milliseconds, not seconds. The worker keeps spare ones (:func:`serve`): forked
ahead, connected to the database and warmed up (each kind's :func:`~jobs.warm_up`), each waits
for one job. The process imports what its kind needs beyond that, runs the job and records its
outcome; its memory goes back to the system when the job ends, and the worker can stop it
(cancel, time limit) without stopping itself. It dies with the worker: a killed worker leaves no
job running unwatched (the next worker sees the stale heartbeat).
"""

from __future__ import annotations

import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
from multiprocessing.connection import Connection, wait

from sqlalchemy.orm import configure_mappers

from labelapp import config
from labelapp.db import make_engine, make_session_factory
from labelapp.services import jobs

# Imported in the fork server: the ORM's one-time setup happens there, not in every job.
configure_mappers()


def serve(jobs_from_worker: Connection) -> None:
    """A spare job process: set up and warm up (connect, run the kinds' warm-ups) while there is
    no job, then run the one job the worker sends (``(job_id, attempt)``); exit if it sends none."""
    _start()
    engine = make_engine(config.database_url())
    sessions = make_session_factory(engine)
    jobs.warm_up_all(sessions, until=jobs_from_worker.poll)
    try:
        job_id, attempt = jobs_from_worker.recv()
    except EOFError:  # the worker stops, or gave this process up
        return
    finally:
        jobs_from_worker.close()
    try:
        jobs.execute(sessions, job_id, attempt)
    finally:
        engine.dispose()


def run(job_id: int, attempt: int) -> None:
    """A claimed job's attempt, from its handler to its recorded outcome (no warm-up)."""
    _start()
    engine = make_engine(config.database_url())
    try:
        jobs.execute(make_session_factory(engine), job_id, attempt)
    finally:
        engine.dispose()


def _start() -> None:
    # What came from the fork server (modules, the ORM's setup) lives as long as this process:
    # the garbage collector need not walk it (a full collection would take a tenth of a second).
    gc.freeze()
    give_way()
    _die_with_worker()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s job %(process)d %(message)s")


def give_way() -> None:
    """Lower this process's CPU priority by ``LABELAPP_JOB_NICE`` (its Dask LocalCluster workers
    and sandboxes inherit it): on a machine shared with web processes, an annotator's ``next``
    must not wait behind a retrain. Called before the job starts any thread."""
    nice = config.job_nice()
    if nice and hasattr(os, "nice"):
        os.nice(max(0, nice - os.nice(0)))  # to it, not by it; raising priority needs root


def _die_with_worker() -> None:
    """SIGKILL this process when the worker that started it is gone (its end of a pipe closes)
    or the fork server, its parent, dies."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    worker = multiprocessing.parent_process()
    if worker is None:  # run outside a worker (a test calling run() directly)
        return

    def watch() -> None:
        wait([worker.sentinel])
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="labelapp-die-with-worker", daemon=True).start()
