"""The state changes of a job row, each one short transaction that is retried while SQLite says
"database is locked", so a busy database never leaves a job in a state nobody recorded.

queued -> running (a worker claims it; ``attempts`` + 1) -> done | failed | cancelled;
running -> queued again when its worker died and attempts are left (:func:`requeue_or_fail`).
Each change out of ``running`` names the attempt it ends, so a late write of a run that was
already given up cannot overwrite the next run's record.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import exc, update
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.db import DatabaseBusy, is_lock_error, write_scope
from labelapp.models import Job, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")
PERSIST_FOR_SECONDS = 600.0  # how long a state change keeps retrying a locked database
PROGRESS_SECONDS = 0.5  # a running job's progress is written at most this often


def persist(sessions: sessionmaker[Session], change: Callable[[Session], T]) -> T:
    """Run ``change`` in a write transaction, retried while the database is locked or busy."""
    deadline = time.monotonic() + PERSIST_FOR_SECONDS
    pause = 0.2
    while True:
        try:
            with write_scope(sessions) as session:
                return change(session)
        except (DatabaseBusy, exc.OperationalError) as error:
            busy = isinstance(error, DatabaseBusy) or is_lock_error(error)
            if not busy or time.monotonic() > deadline:
                raise
            log.warning("job state change waits for the database: %s", error)
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def _set(session: Session, job_id: int, where: tuple, **values: Any) -> bool:
    """UPDATE one job row if it matches ``where``; whether it did."""
    result = session.execute(update(Job).where(Job.id == job_id, *where).values(**values))
    return result.rowcount == 1


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(sessions: sessionmaker[Session], job_id: int) -> int | None:
    """Move a queued job to running for this process; its attempt number, or None when the job
    is not queued (another worker has it, it was cancelled, or it is finished)."""

    def change(session: Session) -> int | None:
        now = utcnow()
        claimed = _set(
            session,
            job_id,
            (Job.status == "queued",),
            status="running",
            started_at=now,
            heartbeat_at=now,
            attempts=Job.attempts + 1,
            worker=worker_name(),
            finished_at=None,
        )
        return session.get(Job, job_id).attempts if claimed else None

    return persist(sessions, change)


def heartbeat(sessions: sessionmaker[Session], job_id: int, attempt: int) -> tuple[bool, bool]:
    """Renew the running job's lease: (still ours and running, cancellation requested)."""

    def change(session: Session) -> tuple[bool, bool]:
        mine = (Job.status == "running", Job.attempts == attempt)
        if not _set(session, job_id, mine, heartbeat_at=utcnow()):
            return False, False
        return True, bool(session.get(Job, job_id).cancel_requested)

    return persist(sessions, change)


def finish(
    sessions: sessionmaker[Session], job_id: int, attempt: int, status: str, **values: Any
) -> bool:
    """End this attempt of a running job with ``status`` (done, failed, cancelled)."""
    mine = (Job.status == "running", Job.attempts == attempt)
    return persist(
        sessions, lambda s: _set(s, job_id, mine, status=status, finished_at=utcnow(), **values)
    )


def requeue_or_fail(session: Session, job: Job, reason: str) -> str:
    """A running job whose worker is gone: queued again while attempts are left, else failed
    with ``reason``. Returns the new status."""
    if job.attempts < config.job_attempts():
        job.status, job.heartbeat_at, job.worker = "queued", utcnow(), None
        job.message = f"{reason}; running it again (attempt {job.attempts + 1})"[:500]
        return "queued"
    job.status, job.finished_at = "failed", utcnow()
    job.error = (
        f"{reason}, on each of its {job.attempts} attempts; the job was given up. "
        "Start it again; if it fails the same way, it may need more memory or time "
        "(LABELAPP_JOB_TIME_LIMIT_<KIND>)"
    )
    return "failed"


def lease_expired_before() -> Any:
    """Heartbeats older than this belong to dead workers."""
    return utcnow() - timedelta(seconds=config.job_lease_seconds())


class Progress:
    """A running job's ``progress(fraction, message)``, written at most every
    :data:`PROGRESS_SECONDS`: the latest state then (a timer writes it if the job says nothing
    more). A job done sooner writes none: its outcome says it all, and each write would take the
    database's write lock."""

    def __init__(self, sessions: sessionmaker[Session], job_id: int) -> None:
        self.sessions, self.job_id = sessions, job_id
        self.written = time.monotonic()  # the start counts as a write
        self.pending: tuple[float, str] | None = None
        self.timer: threading.Timer | None = None
        self.lock = threading.Lock()

    def __call__(self, fraction: float, message: str = "") -> None:
        with self.lock:
            self.pending = (max(0.0, min(1.0, fraction)), message[:500])
            due = self.written + PROGRESS_SECONDS - time.monotonic()
            if due > 0:
                if self.timer is None:
                    self.timer = threading.Timer(due, self.flush)
                    self.timer.daemon = True
                    self.timer.start()
                return
        self.flush()

    def flush(self) -> None:
        """Write the latest progress now (if the job still runs)."""
        with self.lock:
            pending, self.pending, self.timer = self.pending, None, None
            self.written = time.monotonic()
        if pending is None:
            return
        try:
            with write_scope(self.sessions) as session:
                _set(
                    session,
                    self.job_id,
                    (Job.status == "running",),
                    progress=pending[0],
                    message=pending[1],
                )
        except (DatabaseBusy, exc.OperationalError) as error:  # progress only: the job goes on
            log.warning("job %s: progress not recorded: %s", self.job_id, error)

    def stop(self) -> None:
        """The job ended: nothing more to write."""
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
            self.pending = self.timer = None
