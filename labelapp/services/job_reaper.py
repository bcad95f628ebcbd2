"""Jobs whose worker died: every worker looks for them every few seconds (and :func:`enqueue`
for the job it is asked for), so a kill -9 blocks nothing for longer than the lease.

A running job whose heartbeat is older than the lease (``LABELAPP_JOB_LEASE_SECONDS``) is queued
again while it has attempts left, else failed with a message saying why. A queued job whose
message is that old was possibly lost with a killed process: it is put on the queue again (a
worker only runs a job it moves from queued to running, so a duplicate message is harmless).
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from labelapp.models import Job, utcnow
from labelapp.models.runs import JOB_ACTIVE_STATUSES
from labelapp.services import job_queue, job_state

log = logging.getLogger(__name__)
REAP_BATCH = 100


def reap_one(session: Session, job: Job) -> str:
    """Check one active job: "active" (alive, nothing to do), "requeued" (to be put on the queue
    after the commit) or "failed" (given up)."""
    cutoff = job_state.lease_expired_before()
    if job.heartbeat_at is not None and job.heartbeat_at >= cutoff:
        return "active"
    if job.status == "queued":
        job.heartbeat_at = utcnow()
        return "requeued"
    if session.get_bind().dialect.name == "sqlite" and alive_here(job.worker):
        return "active"  # its heartbeats wait behind a long write (an import's one transaction)
    who = f" ({job.worker})" if job.worker else ""
    reason = f"the worker running this job{who} stopped (killed, out of memory or its machine gone)"
    status = job_state.requeue_or_fail(session, job, reason)
    log.warning("job %s (%s): %s; now %s", job.id, job.kind, reason, status)
    return "requeued" if status == "queued" else "failed"


def alive_here(worker: str | None) -> bool:
    """Whether ``worker`` (``host:pid``, :func:`job_state.worker_name`) is a live process on this
    machine. On SQLite a worker's heartbeat cannot be written while another process holds the
    write lock (an import stores everything in one transaction): its job is not dead for that."""
    host, _, pid = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False  # no such process (or no /proc: then the heartbeat decides)
    return state not in ("Z", "X")  # a zombie is dead, whatever its parent has not read yet


def reap(sessions: sessionmaker[Session]) -> int:
    """Requeue or fail the jobs of dead workers and resend lost messages; how many were sent."""

    def change(session: Session) -> list[int]:
        cutoff = job_state.lease_expired_before()
        stale = session.scalars(
            select(Job)
            .where(
                Job.status.in_(JOB_ACTIVE_STATUSES),
                or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff),
            )
            .order_by(Job.id)
            .limit(REAP_BATCH)
        ).all()
        return [job.id for job in stale if reap_one(session, job) == "requeued"]

    resend = job_state.persist(sessions, change)
    for job_id in resend:
        job_queue.send(job_id)
    return len(resend)
