"""The ``lf_analysis`` job: the LF analysis computed in a worker from the stored votes and the
human labels; its result is what pages and the API serve (:mod:`.analysis_report`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

# Imported at the top: a worker's fork server imports this module once, so each analysis job
# starts with the library loaded.
import weak_supervision.analysis  # noqa: F401
from labelapp.db import session_scope
from labelapp.models import Job
from labelapp.services.jobs import handler
from labelapp.services.weak import analysis_report
from labelapp.services.weak.common import get_project
from labelapp.services.weak.votes import compute_analysis


@handler(analysis_report.KIND)
def _run_analysis(
    sessions: sessionmaker[Session], job: Job, progress: Callable[[float, str], None]
) -> dict[str, Any]:
    with session_scope(sessions) as session:
        project = get_project(session, job.project_id)
        key = analysis_report.stamp(session, project)  # before reading: a later change shows
        basis = analysis_report.basis(session, project)
        progress(0.05, "reading the votes and the human labels")
        result = compute_analysis(session, project)
    return {
        "params": analysis_report.PARAMS,
        "stamp": key,
        "basis": basis,
        "analysis": asdict(result),
    }
