"""Background jobs: a row per job (status, progress, error, timings), run by a local executor.

Jobs run in separate worker processes (a pool of ``LABELAPP_JOB_WORKERS``, default 2, started
with ``spawn``, so one project's slow job does not hold up another's), never in the
threads that serve requests: a retrain that featurizes a million texts would otherwise hold the
GIL and stall every annotator's next item. Each server process (e.g. each gunicorn worker) has its
own pool; the ``jobs`` table keeps one active job per project and kind, so two workers never
retrain the same project at once. Work that is heavy in itself (LF application, pool scoring)
can go to Dask inside the job.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope, write_scope
from labelapp.models import Job, User, utcnow
from labelapp.services.errors import UserError
from labelapp.services.queue import start_write

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(hours=1)  # a "running" job older than this died with its process

Handler = Callable[[sessionmaker[Session], Job, Callable[[float, str], None]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
# Modules whose @handler functions the worker process must import to know every job kind.
HANDLER_MODULES = (
    "labelapp.services.retrain",
    "labelapp.services.export",
    "labelapp.services.weak",
    "labelapp.services.label_issues",
)
_executor: ProcessPoolExecutor | None = None
_executor_lock = threading.Lock()
_worker_sessions: dict[str, sessionmaker[Session]] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def executor() -> ProcessPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            from labelapp import config

            try:
                workers = config.job_workers()
            except ValueError as exc:
                raise UserError(str(exc)) from None
            _executor = ProcessPoolExecutor(
                max_workers=workers, mp_context=multiprocessing.get_context("spawn")
            )
        return _executor


def _url_of(sessions: sessionmaker[Session]) -> str:
    return sessions.kw["bind"].url.render_as_string(hide_password=False)


def _run_in_worker(url: str, data_dir: str | None, job_id: int) -> None:
    """Entry point in the worker process: its own engine, the handlers, then the job."""
    import importlib

    from labelapp.db import make_engine, make_session_factory

    if data_dir:
        os.environ["LABELAPP_DATA_DIR"] = data_dir
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    if url not in _worker_sessions:
        _worker_sessions[url] = make_session_factory(make_engine(url))
    run(_worker_sessions[url], job_id)


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
    from labelapp import config

    future = executor().submit(_run_in_worker, _url_of(sessions), str(config.data_dir()), job_id)
    future.add_done_callback(lambda f: _record_crash(sessions, job_id, f))
    return job, future


def _record_crash(sessions: sessionmaker[Session], job_id: int, future: Future) -> None:
    """If the worker process died (killed, out of memory), say so on the job instead of leaving
    it 'running' forever."""
    exc = future.exception()
    if exc is None:
        return
    global _executor
    with _executor_lock:
        _executor = None  # a broken pool cannot run more jobs: the next job starts a new one
    with write_scope(sessions) as session:
        job = session.get(Job, job_id)
        if job is not None and job.status in ("queued", "running"):
            job.status, job.finished_at = "failed", utcnow()
            job.error = f"the job's worker process stopped: {exc!r}"


_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s'\"/:]+/)+([^\s'\":/]*)")


def public_message(exc: BaseException, internal: bool = False) -> str:
    """What every member of the project may read about a failure: the message, with server paths
    cut to their last part (the full traceback goes to the log and to admins)."""
    text = _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "…", str(exc))[:2000]
    if internal:
        return f"the job failed ({type(exc).__name__}: {text}); an admin can read the details"
    return text


def run(sessions: sessionmaker[Session], job_id: int) -> None:
    """Run one job to the end, recording progress, result or the error."""
    with write_scope(sessions) as session:
        job = session.get(Job, job_id)
        if job is None or job.status != "queued":
            return
        job.status, job.started_at = "running", utcnow()
    started = time.perf_counter()

    def progress(fraction: float, message: str = "") -> None:
        with write_scope(sessions) as s:
            row = s.get(Job, job_id)
            if row is not None:
                row.progress, row.message = max(0.0, min(1.0, fraction)), message[:500]

    try:
        result = HANDLERS[job.kind](sessions, job, progress)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job for the user
        is_user_error = isinstance(exc, UserError | ValueError)
        if not is_user_error:
            log.exception("job %s (%s) failed", job_id, job.kind)
        with write_scope(sessions) as session:
            row = session.get(Job, job_id)
            row.status, row.finished_at = "failed", utcnow()
            row.error = public_message(exc, internal=not is_user_error)
            row.traceback = None if is_user_error else traceback.format_exc(limit=8)
        return
    with write_scope(sessions) as session:
        row = session.get(Job, job_id)
        row.status, row.finished_at, row.progress = "done", utcnow(), 1.0
        row.result = {**result, "seconds": round(time.perf_counter() - started, 2)}
