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

import importlib
import logging
import re
import time
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy import exc, select
from sqlalchemy.orm import Session, sessionmaker

from labelapp import config
from labelapp.db import session_scope
from labelapp.models import Job, Project, User, utcnow
from labelapp.models.runs import JOB_ACTIVE_STATUSES
from labelapp.services import job_queue, job_state
from labelapp.services.errors import Conflict, UserError

log = logging.getLogger(__name__)

Handler = Callable[[sessionmaker[Session], Job, Callable[[float, str], None]], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
# Every job kind, named once, with the module whose @handler runs it: a web process queues them
# without importing their handlers (which load the learning stack), and a job's process imports
# only its kind's module; tests/test_units_of_work.py checks each has its handler.
JOB_KINDS: dict[str, str] = {
    "retrain": "labelapp.services.retrain",
    "export": "labelapp.services.export.job",
    "label_issues": "labelapp.services.label_issues",
    "ws_apply": "labelapp.services.weak.pipeline",
    "ws_fit": "labelapp.services.weak.pipeline",
    "ws_propagate": "labelapp.services.weak.pipeline",
    "ws_train": "labelapp.services.weak.pipeline",
    "ws_pipeline": "labelapp.services.weak.pipeline",
    "import": "labelapp.services.import_job",
    "agreement": "labelapp.services.agreement_job",
    "lf_analysis": "labelapp.services.weak.analysis_job",
}
# Modules whose @handler functions a worker must import to know every job kind.
HANDLER_MODULES = tuple(dict.fromkeys(JOB_KINDS.values()))
FINISHED = ("done", "failed", "cancelled")


def modules_for(kind: str) -> tuple[str, ...]:
    """The modules a process imports to run jobs of ``kind``: its handler's module, or for kinds
    added by settings, ``LABELAPP_JOB_MODULES``."""
    return (JOB_KINDS[kind],) if kind in JOB_KINDS else config.job_modules()


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of ``kind``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


WarmUp = Callable[[sessionmaker[Session]], None]
WARM_UPS: list[tuple[str, WarmUp]] = []


def warm_up(kind: str) -> Callable[[WarmUp], WarmUp]:
    """Register a step a spare job process runs before it is given a job, so that a job of
    ``kind`` starts warm: it must only read, and work on any database (e.g. for no project)."""

    def register(fn: WarmUp) -> WarmUp:
        WARM_UPS.append((kind, fn))
        return fn

    return register


def warm_up_all(sessions: sessionmaker[Session], until: Callable[[], bool]) -> None:
    """The registered warm-up steps (in a spare job process), until ``until()`` says its job has
    come; a step that fails is only logged."""
    with session_scope(sessions) as session:
        session.get(Job, 0)  # what :func:`execute` reads first
    for kind, fn in WARM_UPS:
        if until():
            return
        try:
            fn(sessions)
        except Exception as exc:
            log.warning("warm-up of %s jobs failed (they start cold): %s", kind, exc)


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
        job = wait(self.sessions, self.job_id, timeout)
        if job is not None and job.status not in FINISHED:
            raise TimeoutError(f"job {self.job_id} still {job.status} after {timeout} s")
        return job


def wait(sessions: sessionmaker[Session], job_id: int, timeout: float | None) -> Job | None:
    """The job row once it is finished, or as it is after ``timeout`` seconds (None: no limit).
    Looks again after a twentieth of the time waited so far (from 5 ms to 0.1 s): a quick job is
    seen within milliseconds of its end, a long one costs few reads."""
    started = time.monotonic()
    while True:
        with session_scope(sessions) as session:  # the status alone: a cheap look
            status = session.scalar(select(Job.status).where(Job.id == job_id))
        waited = time.monotonic() - started
        if status is None or status in FINISHED or (timeout is not None and waited >= timeout):
            with session_scope(sessions) as session:
                return session.get(Job, job_id)
        pause = min(max(waited / 20, 0.005), 0.1)
        time.sleep(pause if timeout is None else min(pause, timeout - waited))


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


# What may still run on an archived (read-only) project: exporting it, and the reports its
# pages show (they only read).
ARCHIVED_JOB_KINDS = frozenset({"export", "agreement", "lf_analysis"})


def _refuse_if_archived(session: Session, project_id: int, kind: str) -> None:
    row = session.execute(
        select(Project.name, Project.archived_at).where(Project.id == project_id)
    ).first()
    if row is not None and row.archived_at is not None:
        raise Conflict(
            f"project {row.name!r} is archived and read-only: no {kind} job runs on it (exports "
            "still do); an admin can unarchive it on the project page"
        )


def _insert(
    session: Session, project_id: int, kind: str, params: dict[str, Any] | None, user: User | None
) -> tuple[Job, str]:
    """The active job ("active", or "requeued" when its worker had died), or a new queued one
    ("new"); the unique index settles a race between processes."""
    from labelapp.services.job_reaper import reap_one

    if kind not in ARCHIVED_JOB_KINDS:
        _refuse_if_archived(session, project_id, kind)
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
    started, cpu = time.perf_counter(), time.process_time()
    progress = job_state.Progress(sessions, job_id)
    try:
        if job.kind not in HANDLERS:  # run in a process that has not imported its handler
            for module in modules_for(job.kind):
                importlib.import_module(module)
        result = HANDLERS[job.kind](sessions, job, progress)
    except Exception as exc:
        progress.stop()
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
    progress.stop()
    job_state.finish(
        sessions,
        job_id,
        attempt,
        "done",
        progress=1.0,
        result={
            **result,
            "seconds": round(time.perf_counter() - started, 3),
            "cpu_seconds": round(time.process_time() - cpu, 3),
        },
    )
