"""Reports that a job computes in a worker and web processes serve: the agreement report
(:mod:`labelapp.services.agreement_store`) and the LF analysis
(:mod:`labelapp.services.weak.analysis_report`).

A report job records in its ``result`` the parameters it was asked for and a *stamp*: a summary
of what the report reads (answers, votes, LFs...), taken before reading it. The newest finished
job of a kind with matching parameters holds the report to serve; it is *current* while the stamp
taken now equals its own. When it is not, a page or the API queues the job again (one active job
per project and kind) and, if asked to, waits a bounded time for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelapp.models import Job, Project, User, utcnow
from labelapp.services.errors import UserError
from labelapp.services.jobs import FINISHED, JobHandle, active_job, start_job

LOOK_BACK = 50  # finished jobs of a kind searched for a report

Match = Callable[[dict[str, Any]], bool]  # the parameters a report was computed with -> usable?
Stamp = Callable[[], Any]  # the stamp of the data now
Usable = Callable[[Job], bool]  # e.g. its file is still there


class ReportFailed(UserError):
    """The job that was to compute the report failed."""

    status = 500
    code = "job_failed"


@dataclass
class Report:
    """A stored report: the finished job holding it, and whether it is current."""

    job: Job
    current: bool

    @property
    def age_seconds(self) -> float:
        """Seconds since the report was computed."""
        finished = self.job.finished_at or utcnow()
        if finished.tzinfo is None:  # SQLite gives naive UTC times back
            finished = finished.replace(tzinfo=UTC)
        return max(0.0, (utcnow() - finished).total_seconds())


def exactly(wanted: dict[str, Any]) -> Match:
    return lambda got: got == wanted


def finished(session: Session, project_id: int, kind: str) -> list[Job]:
    """The project's last :data:`LOOK_BACK` done jobs of ``kind``, newest first."""
    return list(
        session.scalars(
            select(Job)
            .where(Job.project_id == project_id, Job.kind == kind, Job.status == "done")
            .order_by(Job.id.desc())
            .limit(LOOK_BACK)
        )
    )


def latest(
    session: Session,
    project_id: int,
    kind: str,
    match: Match,
    stamp: Stamp,
    usable: Usable = lambda job: True,
) -> Report | None:
    """The newest stored report of ``kind`` whose parameters ``match``."""
    for job in finished(session, project_id, kind):
        result = job.result or {}
        if match(result.get("params") or {}) and usable(job):
            return Report(job, result.get("stamp") == stamp())
    return None


def current_report(
    session: Session,
    sessions: sessionmaker[Session],
    project: Project,
    kind: str,
    wanted: dict[str, Any],
    user: User | None,
    wait: float,
    *,
    stamp: Stamp,
    match: Match | None = None,
    usable: Usable = lambda job: True,
) -> tuple[Report | None, Job | None]:
    """A current report of ``kind`` matching ``wanted`` (or ``match``), queuing the job that
    computes it if needed and waiting up to ``wait`` seconds for it; else the newest older one,
    or None. The second value is the job still computing one (None once the report returned is
    current, or as new as the request: answers that came in while it ran do not make the
    request wait for yet another run)."""
    match = match or exactly(wanted)
    deadline = time.monotonic() + wait
    while True:
        found = latest(session, project.id, kind, match, stamp, usable)
        if found is not None and found.current:
            return found, None
        job, _ = start_job(session, sessions, project.id, kind, wanted, user)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return found, job
        ended = _wait(sessions, job.id, remaining)
        if ended is None or ended.status not in FINISHED:
            return found, job
        if match(ended.params or {}):  # else it was another request's: queue ours next
            if ended.status == "failed":
                raise ReportFailed(f"the {kind.replace('_', ' ')} job failed: {ended.error}")
            session.expire_all()
            mine = session.get(Job, ended.id)
            if ended.status == "done" and mine is not None and usable(mine):
                return Report(mine, (mine.result or {}).get("stamp") == stamp()), None


def _wait(sessions: sessionmaker[Session], job_id: int, timeout: float) -> Job | None:
    try:
        return JobHandle(sessions, job_id).result(timeout=timeout)
    except TimeoutError:
        return None


def on_page(
    session: Session,
    sessions: sessionmaker[Session],
    project: Project,
    kind: str,
    wanted: dict[str, Any],
    user: User | None,
    reloaded_after: int | None,
    *,
    stamp: Stamp,
    usable: Usable = lambda job: True,
    basis: Stamp | None = None,
) -> tuple[Report | None, Job | None]:
    """What a page shows: the newest report with ``wanted`` parameters, and the job computing a
    newer one: queued here when the data changed since, unless the page was just reloaded after
    a job (``reloaded_after``, its id, from ``?report_job=``: then the job is returned only if it
    failed), so that a page left open while people label does not recompute in a loop. A report
    that records its ``basis`` (the stamp of what labeling alone never changes, e.g. the votes)
    is recomputed after a reload too when that changed, e.g. votes written while it ran."""
    found = latest(session, project.id, kind, exactly(wanted), stamp, usable)
    if found is not None and found.current:
        return found, None  # a job running now computes other parameters: not this page's
    job = active_job(session, project.id, kind)
    if job is None and reloaded_after is not None and _basis_changed(found, basis):
        job, _ = start_job(session, sessions, project.id, kind, wanted, user)
    elif job is None and reloaded_after is not None:
        asked = session.get(Job, reloaded_after)
        mine = asked is not None and asked.project_id == project.id and asked.kind == kind
        job = asked if mine and asked.status == "failed" else None
    elif job is None:
        job, _ = start_job(session, sessions, project.id, kind, wanted, user)
    return found, job


@dataclass(frozen=True)
class ReportKind:
    """One kind of report as the pages serve it: its job kind, the parameters a page asks for,
    and how to take its stamp (and basis) of a project's data now."""

    kind: str
    page_params: dict[str, Any]
    stamp: Callable[[Session, Project], Any]
    usable: Usable = lambda job: True
    basis: Callable[[Session, Project], Any] | None = None

    def current(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        project: Project,
        user: User | None,
        wait: float,
        wanted: dict[str, Any] | None = None,
        match: Match | None = None,
    ) -> tuple[Report | None, Job | None]:
        """A current report with ``wanted`` parameters (default: the page's), computed if
        needed (:func:`current_report`)."""
        return current_report(
            session,
            sessions,
            project,
            self.kind,
            self.page_params if wanted is None else wanted,
            user,
            wait,
            stamp=lambda: self.stamp(session, project),
            match=match,
            usable=self.usable,
        )

    def on_page(
        self,
        session: Session,
        sessions: sessionmaker[Session],
        project: Project,
        user: User | None,
        reloaded_after: int | None,
    ) -> tuple[Report | None, Job | None]:
        """The page's report and the job computing a newer one (:func:`on_page`)."""
        basis = self.basis
        return on_page(
            session,
            sessions,
            project,
            self.kind,
            self.page_params,
            user,
            reloaded_after,
            stamp=lambda: self.stamp(session, project),
            usable=self.usable,
            basis=None if basis is None else lambda: basis(session, project),
        )


def _basis_changed(found: Report | None, basis: Stamp | None) -> bool:
    """Whether the stored report's basis differs from the data now (False without one)."""
    if found is None or basis is None:
        return False
    recorded = (found.job.result or {}).get("basis")
    return recorded is not None and recorded != basis()
