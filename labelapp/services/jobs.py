"""Background jobs: a row per job (status, progress, error, timings), run by a local executor.

The embedded default runs jobs on a thread pool in the server process; every process (e.g.
each gunicorn worker) has its own pool, and the ``jobs`` table keeps one active job per project
and kind, so two workers never retrain the same project at once. Work that is heavy in itself
(LF application, pool scoring) goes to Dask inside the job.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope
from labelapp.models import Job, User, utcnow
from labelapp.services.errors import UserError
from labelapp.services.queue import start_write

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(hours=1)  # a "running" job older than this died with its process

Handler = Callable[[sessionmaker[Session], Job, Callable[[float, str], None]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labelapp-job")
        return _executor


def active_job(session: Session, project_id: int, kind: str) -> Job | None:
    """The queued or running job of this kind for the project, unless it is stale."""
    job = session.scalar(
        select(Job)
        .where(Job.project_id == project_id, Job.kind == kind, Job.status.in_(("queued", "running")))
        .order_by(Job.id.desc())
        .limit(1)
    )
    if job is not None and job.created_at < utcnow() - STALE_AFTER:
        job.status, job.error = "failed", "the process running this job stopped"
        return None
    return job


def enqueue(
    sessions: sessionmaker[Session],
    project_id: int,
    kind: str,
    params: dict[str, Any] | None = None,
    user: User | None = None,
) -> tuple[Job, Future | None]:
    """Queue a job unless one of this kind is already queued or running for the project.

    Returns the job (new or the active one) and, for a new job, the future of its run.
    """
    if kind not in HANDLERS:
        raise UserError(f"unknown job kind {kind!r}; known: {', '.join(sorted(HANDLERS))}")
    with session_scope(sessions) as session:
        start_write(session)
        existing = active_job(session, project_id, kind)
        if existing is not None:
            return existing, None
        job = Job(
            project_id=project_id,
            kind=kind,
            params=params or {},
            created_by_id=user.id if user else None,
        )
        session.add(job)
        session.flush()
        job_id = job.id
    future = executor().submit(run, sessions, job_id)
    return job, future


def run(sessions: sessionmaker[Session], job_id: int) -> None:
    """Run one job to the end, recording progress, result or the error."""
    with session_scope(sessions) as session:
        job = session.get(Job, job_id)
        if job is None or job.status != "queued":
            return
        job.status, job.started_at = "running", utcnow()
    started = time.perf_counter()

    def progress(fraction: float, message: str = "") -> None:
        with session_scope(sessions) as s:
            row = s.get(Job, job_id)
            if row is not None:
                row.progress, row.message = max(0.0, min(1.0, fraction)), message[:500]

    try:
        result = HANDLERS[job.kind](sessions, job, progress)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job for the user
        is_user_error = isinstance(exc, UserError | ValueError)
        if not is_user_error:
            log.exception("job %s (%s) failed", job_id, job.kind)
        with session_scope(sessions) as session:
            row = session.get(Job, job_id)
            row.status, row.finished_at = "failed", utcnow()
            row.error = str(exc) if is_user_error else traceback.format_exc(limit=5)
        return
    with session_scope(sessions) as session:
        row = session.get(Job, job_id)
        row.status, row.finished_at, row.progress = "done", utcnow(), 1.0
        row.result = {**result, "seconds": round(time.perf_counter() - started, 2)}
