"""Background jobs: a row per job (status, progress, error, timings), run by ``labelapp worker``.

:func:`enqueue` writes the row and puts its id on the task queue (Huey:
:mod:`labelapp.services.job_queue`); a worker claims the row, runs the job in a child process it
watches (:mod:`labelapp.services.job_supervisor`), and records the outcome. Web processes never
run jobs. The database keeps at most one queued or running job per project and kind (a partial
unique index), so two web processes asking for a retrain at once get the same job. On the
embedded queue a worker starts beside the web process by itself
(:mod:`labelapp.services.local_worker`).
"""

from __future__ import annotations

import logging
import re
import time
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy import exc, select
from sqlalchemy.orm import Session, sessionmaker

from labelapp.db import session_scope, write_scope
from labelapp.models import Job, User, utcnow
from labelapp.models.runs import JOB_ACTIVE_STATUSES
from labelapp.services import job_queue, job_state
from labelapp.services.errors import UserError

log = logging.getLogger(__name__)

Handler = Callable[[sessionmaker[Session], Job, Callable[[float, str], None]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
# Modules whose @handler functions a worker must import to know every job kind.
HANDLER_MODULES = (
    "labelapp.services.retrain",
    "labelapp.services.export.job",
    "labelapp.services.weak.pipeline",
    "labelapp.services.label_issues",
)
FINISHED = ("done", "failed", "cancelled")
# Every job kind, named once: a web process queues them without importing their handlers (which
# load the learning stack); tests/app/test_jobs_durable.py checks each has its handler.
JOB_KINDS = (
    "retrain",
    "export",
    "label_issues",
    "ws_apply",
    "ws_fit",
    "ws_propagate",
    "ws_train",
    "ws_pipeline",
)


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


def active_job(session: Session, project_id: int, kind: str) -> Job | None:
    """The queued or running job of this kind for the project (at most one: a unique index)."""
    return session.scalar(
        select(Job).where(
            Job.project_id == project_id, Job.kind == kind, Job.status.in_(JOB_ACTIVE_STATUSES)
        )
    )


class JobHandle:
    """A newly queued job, for callers that wait for it (tests, the CLI)."""

    def __init__(self, sessions: sessionmaker[Session], job_id: int) -> None:
        self.sessions, self.job_id = sessions, job_id

    def result(self, timeout: float | None = None) -> Job:
        """Wait until the job is finished; the job row. TimeoutError after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with session_scope(self.sessions) as session:
                job = session.get(Job, self.job_id)
                if job is None or job.status in FINISHED:
                    return job
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"job {self.job_id} still {job.status} after {timeout} s")
            time.sleep(0.1)


def enqueue(
    sessions: sessionmaker[Session],
    project_id: int,
    kind: str,
    params: dict[str, Any] | None = None,
    user: User | None = None,
) -> tuple[Job, JobHandle | None]:
    """Queue a job unless one of this kind is already queued or running for the project.

    Returns the job (new or the active one) and, for a new job, a handle to wait for it.
    """
    if kind not in JOB_KINDS and kind not in HANDLERS:  # HANDLERS: kinds that tests register
        raise UserError(f"unknown job kind {kind!r}; known: {', '.join(JOB_KINDS)}")
    job, state = job_state.persist(sessions, lambda s: _insert(s, project_id, kind, params, user))
    if state != "active":
        _send(sessions, job.id)  # a new job, or the active one run again after its worker died
    return job, JobHandle(sessions, job.id) if state == "new" else None


def start_job(
    session: Session,
    sessions: sessionmaker[Session],
    project_id: int,
    kind: str,
    params: dict[str, Any] | None = None,
    user: User | None = None,
) -> tuple[Job, JobHandle | None]:
    """The "start a job" use case from a request: end the request's read (its snapshot would
    hold SQLite back while the job writes in its own session), then :func:`enqueue`."""
    session.commit()
    return enqueue(sessions, project_id, kind, params, user)


def _insert(
    session: Session, project_id: int, kind: str, params: dict[str, Any] | None, user: User | None
) -> tuple[Job, str]:
    """The active job ("active", or "requeued" when its worker had died), or a new queued one
    ("new"); the unique index settles a race between processes."""
    from labelapp.services.job_reaper import reap_one

    existing = active_job(session, project_id, kind)
    if existing is not None:
        state = reap_one(session, existing)
        if state != "failed":
            return existing, "requeued" if state == "requeued" else "active"
        session.flush()
    job = Job(
        project_id=project_id,
        kind=kind,
        params=params or {},
        heartbeat_at=utcnow(),
        created_by_id=user.id if user else None,
    )
    try:
        with session.begin_nested():
            session.add(job)
    except exc.IntegrityError:
        return active_job(session, project_id, kind), "active"
    return job, "new"


def _send(sessions: sessionmaker[Session], job_id: int) -> None:
    """Put the job on the queue; on the embedded queue make sure a local worker runs."""
    job_queue.send(job_id)
    if job_queue.embedded():
        from labelapp.services import local_worker

        local_worker.ensure(sessions.kw["bind"].url.render_as_string(hide_password=False))


def cancel(sessions: sessionmaker[Session], job_id: int) -> Job:
    """Cancel a job: a queued one at once, a running one by its worker within seconds (its
    process is stopped). A finished job is returned unchanged."""

    def change(session: Session) -> Job:
        job = session.get(Job, job_id)
        if job.status == "queued":
            job.status, job.finished_at, job.message = "cancelled", utcnow(), "cancelled"
        elif job.status == "running":
            job.cancel_requested, job.message = True, "cancelling…"
        return job

    return job_state.persist(sessions, change)


_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s'\"/:]+/)+([^\s'\":/]*)")


def public_message(exc: BaseException, internal: bool = False) -> str:
    """What every member of the project may read about a failure: the message, with server paths
    cut to their last part (the full traceback goes to the log and to admins)."""
    text = _ABSOLUTE_PATH.sub(lambda m: m.group(1) or "…", str(exc))[:2000]
    if internal:
        return f"the job failed ({type(exc).__name__}: {text}); an admin can read the details"
    return text


def run(sessions: sessionmaker[Session], job_id: int) -> None:
    """Claim a queued job and run it in this process to the end (tests, one-off runs)."""
    attempt = job_state.claim(sessions, job_id)
    if attempt is not None:
        execute(sessions, job_id, attempt)


def execute(sessions: sessionmaker[Session], job_id: int, attempt: int) -> None:
    """Run a claimed job's handler, recording progress, result or the error."""
    with session_scope(sessions) as session:
        job = session.get(Job, job_id)
    started = time.perf_counter()

    def progress(fraction: float, message: str = "") -> None:
        with write_scope(sessions) as s:
            row = s.get(Job, job_id)
            if row is not None and row.status == "running":
                row.progress, row.message = max(0.0, min(1.0, fraction)), message[:500]

    try:
        result = HANDLERS[job.kind](sessions, job, progress)
    except Exception as exc:
        is_user_error = isinstance(exc, UserError | ValueError)
        if not is_user_error:
            log.exception("job %s (%s) failed", job_id, job.kind)
        job_state.finish(
            sessions,
            job_id,
            attempt,
            "failed",
            error=public_message(exc, internal=not is_user_error),
            traceback=None if is_user_error else traceback.format_exc(limit=8),
        )
        return
    job_state.finish(
        sessions,
        job_id,
        attempt,
        "done",
        progress=1.0,
        result={**result, "seconds": round(time.perf_counter() - started, 2)},
    )
