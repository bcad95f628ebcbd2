"""The LF analysis as the LF page and the API serve it: computed by the ``lf_analysis`` job in a
worker (:mod:`.analysis_job`, which runs :func:`.votes.compute_analysis`) and kept in the job's
result. It is current while what it read is unchanged (:func:`.cache.analysis_key`: votes, active
LFs, items, human labels); otherwise pages and the API queue the job again
(:mod:`labelapp.services.job_reports`). Cheap to import: no data stack."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from labelapp.models import Job, Project, User
from labelapp.services import job_reports
from labelapp.services.job_reports import Report
from labelapp.services.weak.cache import analysis_key

KIND = "lf_analysis"
PARAMS: dict[str, Any] = {}  # one analysis per project


@dataclass
class Analysis:
    """Per active LF: its stats against the human labels, with examples
    (:func:`.votes.compute_analysis`)."""

    classes: list[str]
    n_items: int
    n_labeled: int
    n_covered: int
    rows: list[dict[str, Any]]


def stamp(session: Session, project: Project) -> str:
    """A digest of everything the analysis of ``project`` reads (:func:`.cache.analysis_key`)."""
    return hashlib.sha256(repr(analysis_key(session, project)).encode()).hexdigest()


def basis(session: Session, project: Project) -> str:
    """The :func:`stamp` of all but the human labels: what changes when LFs are written,
    applied or items imported, never by labeling alone."""
    return hashlib.sha256(repr(analysis_key(session, project)[:-1]).encode()).hexdigest()


def stored(report: Report) -> Analysis:
    """The analysis a finished job holds."""
    return Analysis(**report.job.result["analysis"])


def current(
    session: Session,
    sessions: sessionmaker[Session],
    project: Project,
    user: User | None,
    wait: float,
) -> tuple[Report | None, Job | None]:
    """A current analysis, computed if needed (waiting up to ``wait`` seconds), else the last one
    (:func:`labelapp.services.job_reports.current_report`)."""
    return REPORTS.current(session, sessions, project, user, wait)


# The analysis the LF page serves (labelapp.web.jobs.report_on_page).
REPORTS = job_reports.ReportKind(KIND, PARAMS, stamp, basis=basis)
